// The kernel bench's comparison row: the monolith through the same bootstrap, but without the
// start-up hooks src/main.ts loads first (drizzle-orm then loads as ES modules).
const { bootstrap, MONOLITH } = await import('../../src/platform/kernel/bootstrap.ts');
const { system } = await import('../../src/composition-root.ts');
await bootstrap({ system, run: MONOLITH });
