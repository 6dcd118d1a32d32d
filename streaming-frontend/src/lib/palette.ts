/**
 * Chart colours per theme, in code rather than read from CSS variables: a
 * chart is drawn on a canvas when it is created, so it must get the theme's
 * colours from its props, not from a stylesheet the parent may not have
 * switched yet. Axis text meets WCAG AA (4.5:1) on the card in both themes.
 */
import type { Theme } from '../hooks/useTheme';

export interface Palette {
  /** Axis labels and ticks: 9.2:1 on white (light), 8.8:1 on #171e28 (dark). */
  axis: string;
  grid: string;
  /** The main subject's line, then overlaid subjects'. */
  lines: readonly string[];
  fill: string;
  /** The normal_range band behind the data. */
  band: string;
  markers: Readonly<Record<'scenario' | 'clock' | 'reset' | 'reconnect', string>>;
  highlight: string;
}

export const PALETTES: Readonly<Record<Theme, Palette>> = {
  light: {
    axis: '#3f4856',
    grid: 'rgba(63, 72, 86, 0.16)',
    lines: ['#1f6fd1', '#c2410c', '#15803d', '#9333ea'],
    fill: 'rgba(31, 111, 209, 0.12)',
    band: 'rgba(21, 128, 61, 0.10)',
    markers: { scenario: '#9333ea', clock: '#b45309', reset: '#b91c1c', reconnect: '#475569' },
    highlight: '#d97706',
  },
  dark: {
    axis: '#b3bdcc',
    grid: 'rgba(179, 189, 204, 0.16)',
    lines: ['#5fa8ff', '#fb923c', '#4ade80', '#c084fc'],
    fill: 'rgba(95, 168, 255, 0.14)',
    band: 'rgba(74, 222, 128, 0.10)',
    markers: { scenario: '#c084fc', clock: '#fbbf24', reset: '#f87171', reconnect: '#94a3b8' },
    highlight: '#fbbf24',
  },
};
