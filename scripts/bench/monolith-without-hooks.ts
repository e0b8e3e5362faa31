// The kernel bench's comparison row: the monolith through the same bootstrap, but without the
// drizzle start-up hook src/main.ts loads (drizzle-orm then loads as ES modules). The compile
// cache hook stays, so the row differs from `node src/main.ts` by the drizzle hook alone.
import '../../src/platform/kernel/compile-cache.ts';

const { bootstrap, MONOLITH } = await import('../../src/platform/kernel/bootstrap.ts');
const { system } = await import('../../src/composition-root.ts');
await bootstrap({ system, run: MONOLITH });
