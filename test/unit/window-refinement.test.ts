import { describe, expect, it } from 'vitest';
import { type StoredEstimate, refineWindow, shouldReplace } from '../../lib/tracker/refinement.js';
import { chooseTemplateFrame } from '../../lib/tracker/template.js';

const box = (x: number) => ({ x, y: 0, width: 10, height: 10 });
const stored = (x: number, score: number, locked = false): StoredEstimate => ({ box: box(x), score, locked });

describe('refinement rule', () => {
  it('replaces a stored estimate only on a strictly higher score, never a locked one', () => {
    expect(shouldReplace(stored(0, 0.5), { box: box(1), score: 0.6 })).toBe(true);
    expect(shouldReplace(stored(0, 0.5), { box: box(1), score: 0.5 })).toBe(false);
    expect(shouldReplace(stored(0, 0.5), { box: box(1), score: 0.4 })).toBe(false);
    expect(shouldReplace(stored(0, 1, true), { box: box(1), score: 2 })).toBe(false);
  });

  it('new frames take the estimate as is; re-estimated ones follow the rule', () => {
    const trajectory = new Map<number, StoredEstimate>([
      [3, stored(3, 0.4)],
      [4, stored(4, 0.9)],
      [5, stored(5, 0.5)],
    ]);
    const outcome = refineWindow(
      [3, 4, 5, 6, 7],
      ['refine', 'refine', 'refine', 'new', 'new'],
      (f) => trajectory.get(f),
      [
        { box: box(30), score: 0.45 }, // beats 0.4
        { box: box(40), score: 0.8 }, // loses to 0.9
        { box: box(50), score: 0.5 }, // ties: kept
        { box: box(60), score: 0.01 },
        { box: box(70), score: 0.3 },
      ],
    );
    expect(outcome.replaced).toEqual([3]);
    expect([...outcome.updates.keys()]).toEqual([3, 6, 7]);
    expect(outcome.updates.get(3)).toEqual({ box: box(30), score: 0.45, locked: false });
    expect(outcome.updates.get(6)?.score).toBeCloseTo(0.01);
  });

  it('fails loudly when a re-estimated frame has no stored estimate', () => {
    expect(() => refineWindow([1], ['refine'], () => undefined, [{ box: box(0), score: 1 }])).toThrow(RangeError);
  });
});

describe('dynamic template choice', () => {
  const policy = { threshold: 0.3, interval: 1 };
  it('picks the best-scoring unlocked frame above the threshold', () => {
    const c = [
      { frameIndex: 0, score: 1, locked: true },
      { frameIndex: 1, score: 0.5, locked: false },
      { frameIndex: 2, score: 0.7, locked: false },
      { frameIndex: 3, score: 0.6, locked: false },
    ];
    expect(chooseTemplateFrame(c, policy, 0)).toBe(2);
  });
  it('keeps the current template below the threshold, within the interval, or for the same frame', () => {
    const c = [{ frameIndex: 8, score: 0.29, locked: false }];
    expect(chooseTemplateFrame(c, policy, 0)).toBeNull();
    const d = [{ frameIndex: 8, score: 0.9, locked: false }];
    expect(chooseTemplateFrame(d, policy, 8)).toBeNull();
    expect(chooseTemplateFrame(d, { threshold: 0.3, interval: 10 }, 0)).toBeNull();
    expect(chooseTemplateFrame(d, { threshold: 0.3, interval: 8 }, 0)).toBe(8);
    expect(chooseTemplateFrame([], policy, 0)).toBeNull();
  });
  it('breaks score ties towards the newer frame', () => {
    const c = [
      { frameIndex: 4, score: 0.5, locked: false },
      { frameIndex: 5, score: 0.5, locked: false },
    ];
    expect(chooseTemplateFrame(c, policy, 0)).toBe(5);
  });
});
