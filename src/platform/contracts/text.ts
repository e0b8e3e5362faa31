// Text a person typed: trimmed-free of control characters, whatever store keeps it. Postgres
// refuses a NUL in text and SQLite would keep it, so without this the same request would be a 400
// on one engine and stored on the other; other control characters (escape sequences, bell,
// backspace) have no place in a name or a description and can deceive terminals and log readers.
import { z } from 'zod';

// C0 controls but tab, line feed and carriage return; DEL; C1 controls.
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const CONTROL_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f]/;

export function plainText(o: { max: number; min?: number; multiline?: boolean }) {
  const control = o.multiline ? CONTROL_MULTILINE : CONTROL_SINGLE_LINE;
  return z
    .string()
    .min(o.min ?? 0)
    .max(o.max)
    .refine((v) => !control.test(v), o.multiline ? 'must not contain control characters (tab and line breaks are fine)' : 'must not contain control characters or line breaks');
}
