/** The dashboard's inspection hook (see src/main.tsx), as the tests read it. */
export {};

declare global {
  interface Window {
    __biomock?: {
      ids: () => number[];
      lastId: () => number | null;
      counts: () => {
        received: number;
        malformed: number;
        duplicates: number;
        outOfOrder: number;
        missing: number;
        reconnects: number;
      };
    };
  }
}
