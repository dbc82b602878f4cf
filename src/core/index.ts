export * from './clock.ts';
export * from './entity-keys.ts';
export * from './errors.ts';
export * from './fingerprint.ts';
export * from './incident.ts';
export * from './observation.ts';
export * from './series-label.ts';
export * from './signal.ts';
