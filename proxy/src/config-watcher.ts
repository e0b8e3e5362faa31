// Hot reload: the file is polled by stat (every 200 ms by default) rather than fs.watch, because
// editors and writeConfig replace the file by rename, which detaches an inotify watch from it.
// Only a change of content triggers a reload; an invalid file is reported and the old config kept.
import { watchFile, unwatchFile, readFileSync, type Stats } from 'node:fs';

/** `persistent`: keep the process alive while watching (a watcher on its own, not beside a server). */
export function watchConfig(path: string, intervalMs: number, onText: (text: string) => void, persistent = false): () => void {
  const listener = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return; // between unlink and rename, or deleted: keep serving the current config
    }
    onText(text);
  };
  watchFile(path, { interval: intervalMs, persistent }, listener);
  return () => unwatchFile(path, listener);
}
