import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where engines are installed: outside the repo, reused across runs. */
export const ENGINE_CACHE =
  process.env.GUARDIAN_ENGINE_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'guardian-engines');

/**
 * A virtualenv with exactly a pinned lock's packages, in the engine cache. The lock's hash names
 * the folder, so a changed lock installs afresh; a `.complete` marker is written last, so an
 * interrupted install is never mistaken for a complete one, and a mutex folder makes parallel
 * test files wait for one install. Returns the venv's bin folder.
 */
export async function installPythonLock(name: string, lock: string): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(lock)).digest('hex').slice(0, 12);
  const venv = path.join(ENGINE_CACHE, `${name}-${hash}`);
  if (existsSync(path.join(venv, '.complete'))) return path.join(venv, 'bin');
  mkdirSync(ENGINE_CACHE, { recursive: true });
  // Test files run in parallel and may want the same engine: one installs, the others wait.
  const mutex = `${venv}.installing`;
  for (const deadline = Date.now() + 20 * 60_000; ; ) {
    try {
      mkdirSync(mutex);
      break;
    } catch {
      if (existsSync(path.join(venv, '.complete'))) return path.join(venv, 'bin');
      if (Date.now() > deadline) {
        rmSync(mutex, { recursive: true, force: true }); // left by a run that died mid-install
        continue;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    if (existsSync(path.join(venv, '.complete'))) return path.join(venv, 'bin');
    await install(venv, lock);
  } finally {
    rmSync(mutex, { recursive: true, force: true });
  }
  return path.join(venv, 'bin');
}

async function install(venv: string, requirements: string): Promise<void> {
  const python = process.env.GUARDIAN_PYTHON ?? 'python3';
  rmSync(venv, { recursive: true, force: true });
  // A venv cannot be moved (its scripts hold absolute paths): build in place, mark when complete.
  await run(python, ['-m', 'venv', venv]);
  await run(
    path.join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', '-r', requirements],
    {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 15 * 60_000,
    },
  );
  const marker = path.join(venv, '.complete.tmp');
  writeFileSync(marker, new Date().toISOString());
  renameSync(marker, path.join(venv, '.complete'));
}
