// Checked by tsc in .ci/packages (never run): the package's types as a TypeScript test suite
// uses them.
import { DEMO, startWrapup, WrapupApiError, type Interaction, type WrapupServer } from "wrapup-sandbox";

export async function typed(): Promise<void> {
  const server: WrapupServer = await startWrapup({ settleMs: 0, clock: "manual", webhooksAllowPrivate: true });
  const now: number = await server.advance(1500);
  const ready: Interaction = await server.readyInteraction(DEMO.sales, "voice");
  const finalized: boolean = ready.finalized;
  await server.applyWrapup(ready.id, DEMO.codeSale, { durationMs: 60_000 });
  const reading = await server.now();
  const manual: boolean = reading.manual;
  try {
    await server.request("GET", "/api/v2/interactions");
  } catch (e) {
    if (e instanceof WrapupApiError) {
      const code: string | undefined = e.code;
      void code;
    }
  }
  // @ts-expect-error: the clock is "manual" or "system"
  await startWrapup({ clock: "fake" });
  void [now, finalized, manual];
  await server.stop();
}
