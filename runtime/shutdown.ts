/** A named shutdown step; steps run in the order given. */
export interface ShutdownStep {
  name: string;
  close(): Promise<void>;
}

/**
 * Runs every step even when an earlier one fails (BullMQ's close does the same), so a
 * stuck broker cannot leave the database open; reports the failures at the end.
 */
export async function closeInOrder(steps: readonly ShutdownStep[]): Promise<void> {
  const failures: string[] = [];
  for (const step of steps) {
    try {
      await step.close();
    } catch (error) {
      failures.push(`${step.name}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`shutdown incomplete: ${failures.join('; ')}`);
}
