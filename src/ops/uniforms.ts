// Packs kernel parameters into the byte layout of a WGSL uniform struct (u32/i32/f32 words, vec4-aligned
// arrays of eight u32 for shapes and strides).

export class Uniforms {
  private readonly view: DataView;
  private offset = 0;

  constructor(readonly bytes: number) {
    this.view = new DataView(new ArrayBuffer(bytes));
  }

  u32(...values: number[]): this {
    for (const v of values) {
      this.view.setUint32(this.offset, v >>> 0, true);
      this.offset += 4;
    }
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) {
      this.view.setFloat32(this.offset, v, true);
      this.offset += 4;
    }
    return this;
  }

  /** An `array<vec4<u32>, 2>`: up to eight values, zero-padded. */
  dims8(values: readonly number[]): this {
    if (values.length > 8) throw new Error(`rank ${values.length} exceeds the supported maximum of 8`);
    for (let i = 0; i < 8; i++) this.u32(values[i] ?? 0);
    return this;
  }

  get buffer(): ArrayBuffer {
    return this.view.buffer as ArrayBuffer;
  }
}
