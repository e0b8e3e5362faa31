// Podman from tests: build an image (layers cached between builds), run a container as its image's
// user on the host network, read its logs, remove what a test made. Every call fails loudly with
// podman's own words.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '../support/processes.ts';

const exec = promisify(execFile);

/** The base image the Dockerfiles take as BASE: the local one setup-containers.sh makes, or TEST_IMAGE_BASE. */
export const BASE = process.env.TEST_IMAGE_BASE ?? 'localhost/node:24-local';

export async function podman(...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec('podman', args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** Builds from the repository root as the Dockerfile's header says; its output goes to the test log. */
export function build(dockerfile: string, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', ['build', '--format', 'docker', '--layers', '--network', 'host', '--build-arg', `BASE=${BASE}`, '-f', dockerfile, '-t', tag, '.'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`podman build -f ${dockerfile} failed (${code}):\n${out.slice(-4000)}`))));
  });
}

export interface Container {
  name: string;
  logs(): Promise<string>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

/** Runs detached on the host network, as the image's own (non-root) user: no --user override. */
export async function run(o: { name: string; image: string; env: Record<string, string>; volumes?: string[]; command?: string[] }): Promise<Container> {
  await podman('rm', '-f', o.name).catch(() => {});
  const args = ['run', '-d', '--name', o.name, '--network', 'host'];
  for (const [k, v] of Object.entries(o.env)) args.push('-e', `${k}=${v}`);
  for (const v of o.volumes ?? []) args.push('-v', v);
  await podman(...args, o.image, ...(o.command ?? []));
  return {
    name: o.name,
    logs: async () => {
      const { stdout, stderr } = await exec('podman', ['logs', o.name], { maxBuffer: 64 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
      return stdout + stderr;
    },
    stop: async () => void (await podman('stop', '-t', '20', o.name)),
    remove: async () => void (await podman('rm', '-f', o.name).catch(() => '')),
  };
}
