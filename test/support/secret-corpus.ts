/**
 * Seeded secrets for the end-to-end redaction test, one per shape Guardian must mask. Each has
 * the text as it appears in a log line or an attribute, and `leak`: what must never be found
 * downstream (every secret carries the marker `S3CR3T`, except the encoded ones, whose encoded
 * form is the leak).
 */
export interface SeededSecret {
  readonly shape: string;
  readonly text: string;
  readonly leak: string;
}

const basic = Buffer.from('etl:S3CR3T-basic-pw').toString('base64');
const jwtPayload = Buffer.from('{"sub":"S3CR3T-jwt"}').toString('base64url');

export const SECRET_CORPUS: readonly SeededSecret[] = [
  { shape: 'password=', text: 'password=S3CR3T01pw', leak: 'S3CR3T01' },
  { shape: 'URL password with @', text: 'postgres://etl:p@S3CR3T02@db.internal:5432/x', leak: 'S3CR3T02' },
  { shape: 'Bearer', text: 'Authorization: Bearer S3CR3T03abcdefgh', leak: 'S3CR3T03' },
  { shape: 'Stripe', text: 'stripe sk_live_S3CR3T04abcdefghijkl', leak: 'S3CR3T04' },
  { shape: 'Google API key', text: 'key AIzaS3CR3T05abcdefghijklmnopqrstuvwxyz0', leak: 'S3CR3T05' },
  { shape: 'GitLab', text: 'clone glpat-S3CR3T06abcdefghijklmno', leak: 'S3CR3T06' },
  { shape: 'Slack app', text: 'socket xapp-1-S3CR3T07-abcdef0123', leak: 'S3CR3T07' },
  { shape: 'npm', text: 'npm_S3CR3T08abcdefghijklmnopqrstuvwxyz01', leak: 'S3CR3T08' },
  {
    shape: 'Azure AccountKey',
    text: 'AccountName=lake;AccountKey=S3CR3T09abc+/==;EndpointSuffix=x',
    leak: 'S3CR3T09',
  },
  { shape: 'Cookie', text: 'Cookie: session=S3CR3T10; theme=dark', leak: 'S3CR3T10' },
  { shape: 'curl -u', text: 'curl -u admin:S3CR3T11 https://api.example', leak: 'S3CR3T11' },
  { shape: '--password', text: 'psql --password S3CR3T12 --host db', leak: 'S3CR3T12' },
  { shape: '--token', text: 'cli --token S3CR3T13 run', leak: 'S3CR3T13' },
  { shape: 'bare Basic', text: `sent Basic ${basic} upstream`, leak: basic },
  {
    shape: 'X-Amz-Signature',
    text: 'GET /k?X-Amz-Credential=S3CR3T15a&X-Amz-Signature=S3CR3T15b',
    leak: 'S3CR3T15',
  },
  { shape: 'GitHub', text: 'push ghp_S3CR3T16abcdefghijklmnopqr', leak: 'S3CR3T16' },
  { shape: 'JWT', text: `token eyJhbGciOiJIUzI1NiJ9.${jwtPayload}.c2lnbmF0dXJl`, leak: jwtPayload },
  { shape: 'e-mail', text: 'notify ops.S3CR3T17@example.com', leak: 'S3CR3T17' },
  { shape: 'AWS key id', text: 'using AKIAS3CR3T18ABCDEFGH', leak: 'S3CR3T18' },
  { shape: 'Slack bot token', text: 'xoxb-S3CR3T19-123456789', leak: 'S3CR3T19' },
  { shape: 'JSON secret', text: '{"client_secret": "S3CR3T20"}', leak: 'S3CR3T20' },
];

/** Secret-bearing OTLP attributes (they become series and entity keys). */
export const SECRET_ATTRIBUTES: Readonly<Record<string, string>> = {
  'db.password': 'S3CR3T-attr-1',
  'db.connection_string': 'postgres://etl:S3CR3T-attr-2@db/x',
  'http.request.header.authorization': 'Bearer S3CR3T-attr-3xyz',
  'api.token': 'ghp_S3CR3Tattr4abcdefghijklmnop',
};

/** Everything that must not be found downstream. */
export const LEAKS: readonly string[] = [...SECRET_CORPUS.map((s) => s.leak), 'S3CR3T'];
