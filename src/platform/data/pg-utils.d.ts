// pg's own value conversion (what it applies to each bound value), which pg's typings leave out.
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown };
  export default utils;
}
