// The unit sphere S² of the collapse demo, drawn with WebGPU on the engine's device: a faint wireframe,
// one camera-facing disc per embedding (instanced quads, coloured by class), the class means (ringed
// discs on the sphere, joined to the centre) and SupProto's prototypes (diamonds). A gl-matrix orbit
// camera: drag (mouse or one finger) turns it, the wheel or a pinch zooms. Frames are drawn only when
// something changed, so an idle sphere costs nothing while the training shares the GPU.
import { mat4, vec3 } from 'gl-matrix';

/** Class colours (majority, minority) as [r, g, b] in 0..1 and as CSS. */
export const CLASS_RGB: readonly [number, number, number][] = [[0.12, 0.47, 0.71], [0.89, 0.1, 0.11]];
export const CLASS_CSS = CLASS_RGB.map(([r, g, b]) => `rgb(${Math.round(r * 255)}, ${Math.round(g * 255)}, ${Math.round(b * 255)})`);

/** What a marker on the sphere stands for. */
export type MarkerKind = 'mean' | 'prototype';
export interface Marker {
  /** A direction (normalised here). */
  dir: ArrayLike<number>;
  cls: number;
  kind: MarkerKind;
}

const SHADER = /* wgsl */ `
struct View {
  viewProj: mat4x4f,
  // xyz: unit vector from the centre to the camera.
  eye: vec4f,
  // x, y: canvas size in pixels; z: point radius in pixels; w: unused.
  viewport: vec4f,
};
@group(0) @binding(0) var<uniform> view: View;

// How much a point on the far side of the sphere fades towards the background.
fn farFade(p: vec3f) -> f32 {
  let facing = dot(normalize(p), view.eye.xyz);
  return select(0.0, 0.55, facing < 0.0);
}

struct PointOut {
  @builtin(position) clip: vec4f,
  @location(0) uv: vec2f,
  @location(1) color: vec3f,
  @location(2) @interpolate(flat) kind: u32,
};

// Instance: pos.xyz a point of the sphere, pos.w its radius in units of viewport.z; style.rgb its colour,
// style.w its kind (0 point, 1 mean, 2 prototype).
@vertex fn pointVertex(@builtin(vertex_index) v: u32, @location(0) pos: vec4f, @location(1) style: vec4f) -> PointOut {
  var corners = array<vec2f, 4>(vec2f(-1.0, -1.0), vec2f(1.0, -1.0), vec2f(-1.0, 1.0), vec2f(1.0, 1.0));
  let corner = corners[v];
  let kind = u32(style.w + 0.5);
  let radius = view.viewport.z * pos.w;
  var clip = view.viewProj * vec4f(pos.xyz, 1.0);
  // A constant size in pixels: offset in NDC, scaled back by w.
  clip.x = clip.x + corner.x * radius * 2.0 / view.viewport.x * clip.w;
  clip.y = clip.y + corner.y * radius * 2.0 / view.viewport.y * clip.w;
  // Markers are drawn in front of the points around them.
  if (kind != 0u) { clip.z = clip.z - 0.02 * clip.w; }
  var out: PointOut;
  out.clip = clip;
  out.uv = corner;
  out.color = mix(style.rgb, vec3f(1.0), select(farFade(pos.xyz), farFade(pos.xyz) * 0.6, kind != 0u));
  out.kind = kind;
  return out;
}

@fragment fn pointFragment(in: PointOut) -> @location(0) vec4f {
  let r = length(in.uv);
  if (in.kind == 2u) {
    // A diamond with a dark rim.
    let d = abs(in.uv.x) + abs(in.uv.y);
    if (d > 1.0) { discard; }
    return vec4f(select(in.color, vec3f(0.05), d > 0.72), 1.0);
  }
  if (r > 1.0) { discard; }
  if (in.kind == 1u) {
    // A mean: a ring in the class colour with a dark rim, hollow so that the points under it show.
    if (r < 0.5) { discard; }
    if (r > 0.82 || r < 0.6) { return vec4f(0.05, 0.05, 0.05, 1.0); }
    return vec4f(in.color, 1.0);
  }
  // A point: slightly darker rim.
  return vec4f(in.color * select(1.0, 0.75, r > 0.72), 1.0);
}

struct LineOut {
  @builtin(position) clip: vec4f,
  @location(0) color: vec3f,
};

@vertex fn lineVertex(@location(0) pos: vec4f, @location(1) color: vec4f) -> LineOut {
  var out: LineOut;
  out.clip = view.viewProj * vec4f(pos.xyz, 1.0);
  // Wireframe (w = 0) fades on the far side; spokes to the markers (w = 1) do not.
  let fade = select(farFade(pos.xyz) * 0.7, 0.0, color.w > 0.5 || length(pos.xyz) < 0.999);
  out.color = mix(color.rgb, vec3f(1.0), fade);
  return out;
}

@fragment fn lineFragment(in: LineOut) -> @location(0) vec4f {
  return vec4f(in.color, 1.0);
}
`;

const FLOATS_PER_INSTANCE = 8;
const FLOATS_PER_LINE_VERTEX = 8;
const SAMPLES = 4;
const WIRE_RGB = [0.72, 0.75, 0.8];

/** Latitude and longitude circles every 30°, as line-list vertices [x, y, z, 1, r, g, b, 0]. */
function wireframe(): number[] {
  const out: number[] = [];
  const seg = 72;
  const push = (p: number[], rgb: number[]) => out.push(p[0], p[1], p[2], 1, rgb[0], rgb[1], rgb[2], 0);
  const circle = (at: (t: number) => number[], rgb: number[]) => {
    for (let i = 0; i < seg; i++) {
      push(at((2 * Math.PI * i) / seg), rgb);
      push(at((2 * Math.PI * (i + 1)) / seg), rgb);
    }
  };
  for (let lat = -60; lat <= 60; lat += 30) {
    const phi = (lat * Math.PI) / 180;
    const rgb = lat === 0 ? [0.55, 0.6, 0.68] : WIRE_RGB;
    circle((t) => [Math.cos(phi) * Math.cos(t), Math.sin(phi), Math.cos(phi) * Math.sin(t)], rgb);
  }
  for (let lon = 0; lon < 180; lon += 30) {
    const l = (lon * Math.PI) / 180;
    circle((t) => [Math.cos(t) * Math.cos(l), Math.sin(t), Math.cos(t) * Math.sin(l)], WIRE_RGB);
  }
  return out;
}

/** One sphere view on a canvas. */
export class SphereView {
  /** Orbit angles (radians) and camera distance from the centre. */
  yaw = 0.6;
  pitch = 0.35;
  distance = 3.1;
  /** Frames drawn so far (tests and the page's status read it). */
  frames = 0;
  /** Until the user turns the camera, it follows the embeddings (faces their mean direction). */
  private follow = true;

  private readonly context: GPUCanvasContext;
  private readonly format: GPUTextureFormat;
  private readonly uniform: GPUBuffer;
  private readonly bindGroup: GPUBindGroup;
  private pointPipeline: GPURenderPipeline | null = null;
  private linePipeline: GPURenderPipeline | null = null;
  private readonly wire = wireframe();
  private readonly wireVertices: number;
  private lineBuffer: GPUBuffer;
  private lineCount: number;
  private instanceBuffer: GPUBuffer | null = null;
  private instances = 0;
  private msaa: GPUTexture | null = null;
  private depth: GPUTexture | null = null;
  private points: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private labels: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private markers: Marker[] = [];
  private dirty = true;
  private frame = 0;
  private disposed = false;
  private readonly ready: Promise<void>;
  private readonly detach: () => void;

  constructor(readonly canvas: HTMLCanvasElement, private readonly device: GPUDevice) {
    const ctx = canvas.getContext('webgpu');
    if (!ctx) throw new Error('this browser gives no WebGPU canvas context');
    this.context = ctx;
    this.format = navigator.gpu.getPreferredCanvasFormat();
    this.context.configure({ device, format: this.format, alphaMode: 'opaque' });
    this.uniform = device.createBuffer({ label: 'sphere view', size: 96, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const layout = device.createBindGroupLayout({
      entries: [{ binding: 0, visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT, buffer: { type: 'uniform' } }],
    });
    this.bindGroup = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: this.uniform } }] });
    this.wireVertices = this.wire.length / FLOATS_PER_LINE_VERTEX;
    this.lineCount = this.wireVertices;
    this.lineBuffer = this.makeLineBuffer(Float32Array.from(this.wire));
    this.ready = this.buildPipelines(layout);
    this.detach = this.attachControls();
    this.loop();
  }

  private async buildPipelines(layout: GPUBindGroupLayout): Promise<void> {
    const module = this.device.createShaderModule({ label: 'demo/collapse-sphere.ts', code: SHADER });
    const pipelineLayout = this.device.createPipelineLayout({ bindGroupLayouts: [layout] });
    const attrs = (stride: number): GPUVertexBufferLayout => ({
      arrayStride: stride * 4,
      attributes: [{ shaderLocation: 0, offset: 0, format: 'float32x4' }, { shaderLocation: 1, offset: 16, format: 'float32x4' }],
    });
    const common = { layout: pipelineLayout, multisample: { count: SAMPLES } };
    const [points, lines] = await Promise.all([
      this.device.createRenderPipelineAsync({
        ...common, label: 'sphere points',
        vertex: { module, entryPoint: 'pointVertex', buffers: [{ ...attrs(FLOATS_PER_INSTANCE), stepMode: 'instance' }] },
        fragment: { module, entryPoint: 'pointFragment', targets: [{ format: this.format }] },
        primitive: { topology: 'triangle-strip' },
        // less-equal: at equal depth the later instance wins, so the minority (drawn last) shows.
        depthStencil: { format: 'depth24plus', depthWriteEnabled: true, depthCompare: 'less-equal' },
      }),
      this.device.createRenderPipelineAsync({
        ...common, label: 'sphere wireframe',
        vertex: { module, entryPoint: 'lineVertex', buffers: [attrs(FLOATS_PER_LINE_VERTEX)] },
        fragment: { module, entryPoint: 'lineFragment', targets: [{ format: this.format }] },
        primitive: { topology: 'line-list' },
        // Drawn first, without depth writes: the points always cover the wire.
        depthStencil: { format: 'depth24plus', depthWriteEnabled: false, depthCompare: 'always' },
      }),
    ]);
    this.pointPipeline = points;
    this.linePipeline = lines;
    this.dirty = true;
  }

  /** Resolves once the pipelines are built. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private makeLineBuffer(data: Float32Array): GPUBuffer {
    const buffer = this.device.createBuffer({ label: 'sphere lines', size: Math.max(16, data.byteLength), usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  /** The embeddings to show: `positions` [n × 3] (normalised here), `labels` [n] (0 majority, 1 minority). */
  setPoints(positions: Float32Array, labels: Int32Array): void {
    this.points = positions;
    this.labels = labels;
    if (this.follow) this.aim();
    this.upload();
  }

  /** Turns the camera towards the mean direction of the points, from a little above it. */
  private aim(): void {
    const n = this.labels.length;
    const m = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const p = this.points.subarray(3 * i, 3 * i + 3);
      const r = Math.hypot(p[0], p[1], p[2]) || 1;
      for (let k = 0; k < 3; k++) m[k] += p[k] / r / n;
    }
    const len = Math.hypot(m[0], m[1], m[2]);
    // Points spread over the whole sphere have no direction to face.
    if (!(len > 0.3)) return;
    this.yaw = Math.atan2(m[0], m[2]);
    this.pitch = Math.max(-1.2, Math.min(1.2, Math.asin(m[1] / len) + 0.25));
    this.dirty = true;
  }

  /** Class means and prototypes. */
  setMarkers(markers: Marker[]): void {
    this.markers = markers;
    this.upload();
  }

  /** Removes everything but the wireframe. */
  clear(): void {
    this.follow = true;
    this.points = new Float32Array(0);
    this.labels = new Int32Array(0);
    this.markers = [];
    this.upload();
  }

  private upload(): void {
    const n = this.labels.length;
    const total = n + this.markers.length;
    const data = new Float32Array(Math.max(1, total) * FLOATS_PER_INSTANCE);
    // Radii: the minority's points and mean smaller than the majority's and drawn after them, so that
    // where the classes coincide (a collapsed minority) both colours stay visible.
    const size = (cls: number, kind: number) => (kind === 2 ? 3 : kind === 1 ? (cls === 1 ? 1.9 : 2.7) : cls === 1 ? 0.75 : 1);
    const put = (k: number, p: ArrayLike<number>, cls: number, kind: number) => {
      const r = Math.hypot(p[0], p[1], p[2]) || 1;
      const rgb = CLASS_RGB[cls] ?? [0.4, 0.4, 0.4];
      data.set([p[0] / r, p[1] / r, p[2] / r, size(cls, kind), rgb[0], rgb[1], rgb[2], kind], k * FLOATS_PER_INSTANCE);
    };
    let k = 0;
    for (const cls of [0, 1]) {
      for (let i = 0; i < n; i++) if (this.labels[i] === cls) put(k++, this.points.subarray(3 * i, 3 * i + 3), cls, 0);
    }
    for (let i = 0; i < n; i++) if (this.labels[i] !== 0 && this.labels[i] !== 1) put(k++, this.points.subarray(3 * i, 3 * i + 3), this.labels[i], 0);
    for (const m of this.markers) put(k++, m.dir, m.cls, m.kind === 'mean' ? 1 : 2);
    if (!this.instanceBuffer || this.instanceBuffer.size < data.byteLength) {
      this.instanceBuffer?.destroy();
      this.instanceBuffer = this.device.createBuffer({ label: 'sphere points', size: data.byteLength, usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST });
    }
    this.device.queue.writeBuffer(this.instanceBuffer, 0, data);
    this.instances = total;
    // Spokes from the centre to each marker, after the wireframe.
    const spokes: number[] = [];
    for (const m of this.markers) {
      const rgb = m.kind === 'mean' ? CLASS_RGB[m.cls] ?? [0.3, 0.3, 0.3] : [0.2, 0.2, 0.2];
      const r = Math.hypot(m.dir[0], m.dir[1], m.dir[2]) || 1;
      spokes.push(0, 0, 0, 1, rgb[0], rgb[1], rgb[2], 1);
      spokes.push(m.dir[0] / r, m.dir[1] / r, m.dir[2] / r, 1, rgb[0], rgb[1], rgb[2], 1);
    }
    this.lineBuffer.destroy();
    this.lineBuffer = this.makeLineBuffer(Float32Array.from([...this.wire, ...spokes]));
    this.lineCount = this.wireVertices + spokes.length / FLOATS_PER_LINE_VERTEX;
    this.dirty = true;
  }

  /** Turns the camera by pixel deltas of a drag. */
  orbit(dx: number, dy: number): void {
    this.yaw -= dx * 0.01;
    this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch + dy * 0.01));
    this.dirty = true;
  }

  /** Zooms by a factor (> 1: farther). */
  zoom(factor: number): void {
    this.distance = Math.max(1.8, Math.min(12, this.distance * factor));
    this.dirty = true;
  }

  private attachControls(): () => void {
    const c = this.canvas;
    const active = new Map<number, { x: number; y: number }>();
    let pinch = 0;
    const spread = () => {
      const [a, b] = [...active.values()];
      return Math.hypot(a.x - b.x, a.y - b.y);
    };
    const down = (e: PointerEvent) => {
      this.follow = false;
      try {
        c.setPointerCapture(e.pointerId);
      } catch {
        // A synthetic pointer (no active pointer of that id) cannot be captured; dragging still works.
      }
      active.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (active.size === 2) pinch = spread();
    };
    const move = (e: PointerEvent) => {
      const last = active.get(e.pointerId);
      if (!last) return;
      if (active.size === 1) this.orbit(e.clientX - last.x, e.clientY - last.y);
      active.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (active.size === 2) {
        const now = spread();
        if (pinch > 0 && now > 0) this.zoom(pinch / now);
        pinch = now;
      }
    };
    const up = (e: PointerEvent) => {
      active.delete(e.pointerId);
      pinch = active.size === 2 ? spread() : 0;
    };
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      this.follow = false;
      this.zoom(Math.exp(e.deltaY * 0.001));
    };
    c.addEventListener('pointerdown', down);
    c.addEventListener('pointermove', move);
    c.addEventListener('pointerup', up);
    c.addEventListener('pointercancel', up);
    c.addEventListener('wheel', wheel, { passive: false });
    return () => {
      c.removeEventListener('pointerdown', down);
      c.removeEventListener('pointermove', move);
      c.removeEventListener('pointerup', up);
      c.removeEventListener('pointercancel', up);
      c.removeEventListener('wheel', wheel);
    };
  }

  private loop(): void {
    this.frame = requestAnimationFrame(() => {
      if (this.disposed) return;
      if (this.dirty && this.pointPipeline) this.draw();
      this.loop();
    });
  }

  private targets(width: number, height: number): void {
    if (this.msaa && this.msaa.width === width && this.msaa.height === height) return;
    this.msaa?.destroy();
    this.depth?.destroy();
    this.msaa = this.device.createTexture({ size: [width, height], sampleCount: SAMPLES, format: this.format, usage: GPUTextureUsage.RENDER_ATTACHMENT });
    this.depth = this.device.createTexture({ size: [width, height], sampleCount: SAMPLES, format: 'depth24plus', usage: GPUTextureUsage.RENDER_ATTACHMENT });
  }

  /** Draws one frame now. */
  draw(): void {
    if (!this.pointPipeline || !this.linePipeline) return;
    this.dirty = false;
    const { width, height } = this.canvas;
    this.targets(width, height);
    const eye = vec3.fromValues(
      this.distance * Math.cos(this.pitch) * Math.sin(this.yaw),
      this.distance * Math.sin(this.pitch),
      this.distance * Math.cos(this.pitch) * Math.cos(this.yaw),
    );
    const view = mat4.lookAt(mat4.create(), eye, [0, 0, 0], [0, 1, 0]);
    // WebGPU's clip space has z in [0, 1]: the ZO projection.
    const proj = mat4.perspectiveZO(mat4.create(), Math.PI / 4, width / height, 0.1, 50);
    const viewProj = mat4.multiply(mat4.create(), proj, view);
    const u = new Float32Array(24);
    u.set(viewProj as Float32Array, 0);
    const dir = vec3.normalize(vec3.create(), eye);
    u.set([dir[0], dir[1], dir[2], 0], 16);
    u.set([width, height, 3.4 * (width / (this.canvas.clientWidth || width)), 0], 20);
    this.device.queue.writeBuffer(this.uniform, 0, u);
    const encoder = this.device.createCommandEncoder({ label: 'sphere frame' });
    const pass = encoder.beginRenderPass({
      colorAttachments: [{
        view: this.msaa!.createView(), resolveTarget: this.context.getCurrentTexture().createView(),
        clearValue: { r: 1, g: 1, b: 1, a: 1 }, loadOp: 'clear', storeOp: 'discard',
      }],
      depthStencilAttachment: { view: this.depth!.createView(), depthClearValue: 1, depthLoadOp: 'clear', depthStoreOp: 'discard' },
    });
    pass.setBindGroup(0, this.bindGroup);
    pass.setPipeline(this.linePipeline);
    pass.setVertexBuffer(0, this.lineBuffer);
    pass.draw(this.lineCount);
    if (this.instances > 0) {
      pass.setPipeline(this.pointPipeline);
      pass.setVertexBuffer(0, this.instanceBuffer!);
      pass.draw(4, this.instances);
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    this.frames++;
  }

  dispose(): void {
    this.disposed = true;
    cancelAnimationFrame(this.frame);
    this.detach();
    this.context.unconfigure();
    for (const b of [this.uniform, this.lineBuffer, this.instanceBuffer]) b?.destroy();
    this.msaa?.destroy();
    this.depth?.destroy();
  }
}
