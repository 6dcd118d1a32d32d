import { useEffect, useState } from 'react';

/** Wall-clock time, ticking once a second while the page is visible. */
export function useNow(visible: boolean, now: () => number, onTick: (t: number) => void): number {
  const [time, setTime] = useState(now);
  useEffect(() => {
    if (!visible) return undefined;
    const id = setInterval(() => {
      const t = now();
      setTime(t);
      onTick(t);
    }, 1000);
    return () => clearInterval(id);
  }, [visible, now, onTick]);
  return time;
}
