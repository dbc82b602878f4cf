import { describe, expect, it } from 'vitest';
import { exceptionOf, lastError, readFailureText } from './failure-text.ts';

const PY_TRACEBACK = [
  '[2026-07-14T02:11:04.120+0000] {taskinstance.py:3311} ERROR - Task failed with exception',
  'Traceback (most recent call last):',
  '  File "/opt/airflow/plugins/ops/extract.py", line 61, in execute',
  '    cursor.execute(self.sql)',
  '  File "/usr/lib/python3.12/site-packages/psycopg2/extras.py", line 146, in execute',
  '    return super().execute(query, vars)',
  '  File "/usr/lib/python3.12/site-packages/psycopg2/extras.py", line 150, in execute',
  '    return super().execute(query, vars)',
  '  File "/usr/lib/python3.12/site-packages/psycopg2/extras.py", line 155, in execute',
  '    return super().execute(query, vars)',
];

describe('the exception a failure reports', () => {
  it('reads a raised exception by where it is printed, whatever its name', () => {
    const text = [
      ...PY_TRACEBACK,
      'psycopg2.errors.LockNotAvailable: canceling statement due to lock timeout',
    ].join('\n');
    expect(lastError(text)).toContain('LockNotAvailable');
    expect(readFailureText(text).exception).toBe('LockNotAvailable');
    expect(readFailureText(text).errorLine).toBe(
      'psycopg2.errors.LockNotAvailable: canceling statement due to lock timeout',
    );
  });

  it('reads a Java cause the same way', () => {
    expect(
      exceptionOf('Job aborted.\nCaused by: org.apache.hadoop.fs.s3a.RemoteFileChangedException: open'),
    ).toBe('RemoteFileChangedException');
  });

  it('takes the exception, not the indented fields of its message, as the last error', () => {
    const text = [
      ...PY_TRACEBACK,
      'pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that terminated with:',
      '\tstatus = StatusCode.UNAVAILABLE',
      '\tdetails = "Socket closed"',
      '\tdebug_error_string = "UNKNOWN:Error received from peer  {grpc_message:"Socket closed", grpc_status:14}"',
      '>',
    ].join('\n');
    expect(lastError(text).split('\n')).toContain('\tstatus = StatusCode.UNAVAILABLE');
    expect(readFailureText(text).exception).toBe('SparkConnectGrpcException');
    expect(readFailureText(text).errorLine).toBe(
      'pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that terminated with:',
    );
  });

  it('does not take a field or a word for an exception', () => {
    expect(exceptionOf('Reason: the job was cancelled\nERROR: something')).toBeUndefined();
    expect(exceptionOf('see scheduler_job_runner.py:864 and airflow.cfg')).toBeUndefined();
  });
});
