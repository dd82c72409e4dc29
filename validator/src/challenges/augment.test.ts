import { describe, expect, it } from 'vitest';
import { colorMatrix } from './augment.js';

/** The matrix times an RGB column vector. */
const apply = (m: number[][], rgb: number[]) => m.map((row) => row.reduce((sum, c, i) => sum + c * rgb[i]!, 0));

describe('colorMatrix (the photometric change of medium and hard variants)', () => {
  it('is the identity for no change, and scales every channel by brightness alone', () => {
    const id = colorMatrix({ brightness: 1, saturation: 1, hue: 0 });
    id.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? 1 : 0, 9)));
    expect(apply(colorMatrix({ brightness: 1.1, saturation: 1, hue: 0 }), [100, 50, 10])).toEqual(
      [110, 55, 11].map((v) => expect.closeTo(v, 9)),
    );
  });

  it('keeps greys grey under any hue and saturation, and saturation 0 makes every colour grey', () => {
    for (const hue of [-12, 0, 7, 12])
      for (const saturation of [0.8, 1, 1.2]) {
        const [r, g, b] = apply(colorMatrix({ brightness: 1, saturation, hue }), [120, 120, 120]);
        expect(r).toBeCloseTo(120, 6);
        expect(g).toBeCloseTo(120, 6);
        expect(b).toBeCloseTo(120, 6);
      }
    const [r, g, b] = apply(colorMatrix({ brightness: 1, saturation: 0, hue: 0 }), [200, 40, 90]);
    expect(r).toBeCloseTo(g!, 9);
    expect(g).toBeCloseTo(b!, 9);
  });

  it('turns a colour by the hue angle: red moves towards green for a positive angle, towards blue for a negative', () => {
    const plus = apply(colorMatrix({ brightness: 1, saturation: 1, hue: 12 }), [200, 0, 0]);
    const minus = apply(colorMatrix({ brightness: 1, saturation: 1, hue: -12 }), [200, 0, 0]);
    expect(plus[1]!).toBeGreaterThan(minus[1]!);
    expect(minus[2]!).toBeGreaterThan(plus[2]!);
  });
});
