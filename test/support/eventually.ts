// The platform's own polling helper, the one every test waits with.
export { eventually } from '../../src/platform/testing/eventually.ts';
