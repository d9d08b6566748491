/**
 * Nothing to clean up globally: each test file stops the moto server it started, and a server
 * whose jest worker dies exits by itself (see the stdin watchdog in moto.ts).
 */
export default async function globalTeardown(): Promise<void> {}
