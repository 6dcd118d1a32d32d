/** uPlot stand-in for jsdom, which has no canvas: records what charts are told. */
import type uPlot from 'uplot';

export class FakeUPlot {
  static instances: FakeUPlot[] = [];
  readonly opts: uPlot.Options;
  data: uPlot.AlignedData;
  width: number;
  height: number;
  setDataCalls = 0;
  destroyed = false;

  constructor(opts: uPlot.Options, data: uPlot.AlignedData, host: HTMLElement) {
    this.opts = opts;
    this.data = data;
    this.width = opts.width;
    this.height = opts.height;
    const canvas = document.createElement('canvas');
    host.appendChild(canvas);
    FakeUPlot.instances.push(this);
  }

  setData(data: uPlot.AlignedData): void {
    this.data = data;
    this.setDataCalls += 1;
  }

  setSize(size: { width: number; height: number }): void {
    this.width = size.width;
    this.height = size.height;
  }

  redraws = 0;

  redraw(): void {
    this.redraws += 1;
  }

  destroy(): void {
    this.destroyed = true;
  }

  static live(): FakeUPlot[] {
    return FakeUPlot.instances.filter((p) => !p.destroyed);
  }
}
