/**
 * The engine protocol: the only way the workbench (renderer) talks to the engine, whichever
 * process the engine lives in (Electron utilityProcess over a MessagePort, a Node child process
 * behind the `serve` WebSocket, or in-process in tests). Every message is validated with these
 * schemas on the side that receives it.
 *
 * A request carries an `id`; the engine answers it with exactly one `result` or `error` carrying
 * the same id, and a `profile` or `sweep` request with `progress` messages before that. `engine` messages
 * come from the transport (the process supervisor), not from the engine itself.
 */
import { z } from 'zod';
import { modelSpecSchema, paramValueSchema, reportSchema } from './report-schema.ts';
import { sweepDefinitionSchema, sweepResultSchema } from './sweep.ts';

export const PROTOCOL_VERSION = 1;

/** The report formats `export` renders; the same list as the engine's renderers (checked in tests). */
export const EXPORT_FORMATS = ['json', 'csv', 'md', 'html', 'trace'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** How the palette groups ops and blocks. */
export const PALETTE_GROUPS = ['convolution', 'pooling', 'block', 'structure', 'activation'] as const;
export type PaletteGroup = (typeof PALETTE_GROUPS)[number];

/** How a parameter is typed in the inspector's form; mirrors what ParamReader accepts. */
export const PARAM_TYPES = ['int', 'number', 'bool', 'pair', 'padding', 'enum', 'int_list'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

const shape = z.array(z.number().int().min(0));
const count = z.number().int().min(0);
const requestId = z.number().int().min(0);

export const catalogParamSchema = z.object({
  name: z.string(),
  type: z.enum(PARAM_TYPES),
  /** The default as a person reads it ("1", "[1, 1]", "= kernel", "auto"); null when required. */
  default: z.string().nullable(),
  help: z.string(),
  choices: z.array(z.string()).optional(),
  min: z.number().optional(),
});
export type CatalogParam = z.infer<typeof catalogParamSchema>;

export const catalogEntrySchema = z.object({
  kind: z.enum(['op', 'block']),
  name: z.string(),
  group: z.enum(PALETTE_GROUPS),
  /** One line: what it is and what it costs next to a standard convolution. */
  summary: z.string(),
  /** [min, max] inputs; max null when unbounded (concat). */
  arity: z.tuple([z.number().int().min(0), z.number().int().min(0).nullable()]),
  params: z.array(catalogParamSchema),
});
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

export const presetInfoSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  source: z.string(),
  input_shape: shape,
  layers: count,
  params: count,
  macs: count,
});
export type PresetInfo = z.infer<typeof presetInfoSchema>;

/** A parameterised preset (shufflenet_v1: groups, scale): what a sweep can vary without editing layers. */
export const presetFamilySchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  parameters: z.array(
    z.object({ name: z.string(), help: z.string(), default: z.number(), choices: z.array(z.number()).optional(), min: z.number().optional(), exclusive_min: z.boolean().optional() }),
  ),
});
export type PresetFamilyInfo = z.infer<typeof presetFamilySchema>;

export const catalogSchema = z.object({
  ops: z.array(catalogEntrySchema),
  blocks: z.array(catalogEntrySchema),
  presets: z.array(presetInfoSchema),
  /** Optional: engines from before sweeps do not send it. */
  preset_families: z.array(presetFamilySchema).optional(),
});
export type Catalog = z.infer<typeof catalogSchema>;

export const backendStatusSchema = z.object({
  name: z.string(),
  available: z.boolean(),
  /** What executes (GPU adapter, CPU model and threads); null when it could not start. */
  adapter: z.string().nullable(),
  /** How it times ops, or why it could not start. */
  detail: z.string(),
  /** GPU backends on a software renderer: its name ("llvmpipe", "SwiftShader"). */
  software: z.string().optional(),
});
export type BackendStatus = z.infer<typeof backendStatusSchema>;

export const backendsResultSchema = z.object({
  backends: z.array(backendStatusSchema),
  /** The backend `auto` picks (the first available by priority, passing over a software GPU for a faster CPU), null if none. */
  auto: z.string().nullable(),
  /** Why `auto` picks it, one line (engines before 0.1 do not say). */
  auto_reason: z.string().optional(),
});
export type BackendsResult = z.infer<typeof backendsResultSchema>;

export const memoryTimelineSchema = z.object({
  mode: z.enum(['live', 'cumulative']),
  steps: z.array(z.object({ id: z.string(), live: count, after: count })),
  peak: count,
});
export type MemoryTimelineData = z.infer<typeof memoryTimelineSchema>;

/** A report and what the engine derives from it for the charts. */
export const analysisSchema = z.object({ report: reportSchema, memory: memoryTimelineSchema });
export type Analysis = z.infer<typeof analysisSchema>;

export const progressPhaseSchema = z.enum(['prepare', 'warmup', 'measure']);

// ---- requests (workbench -> engine) ----

const hello = z.object({ id: requestId, type: z.literal('hello') });
const catalog = z.object({ id: requestId, type: z.literal('catalog') });
const backends = z.object({ id: requestId, type: z.literal('backends') });
const preset = z.object({ id: requestId, type: z.literal('preset'), preset: z.string().min(1) });
/** Parameters for a new layer of `name` that fit its input shapes (falls back to a plain example). */
const suggest = z.object({
  id: requestId,
  type: z.literal('suggest'),
  kind: z.enum(['op', 'block']),
  name: z.string().min(1),
  input_shapes: z.array(shape).min(1),
});
const inspect = z.object({ id: requestId, type: z.literal('inspect'), spec: modelSpecSchema, batch: z.number().int().positive().optional() });
const profile = z.object({
  id: requestId,
  type: z.literal('profile'),
  spec: modelSpecSchema,
  backend: z.string().min(1),
  warmup: z.number().int().min(0).max(1000),
  repeat: z.number().int().min(1).max(10000),
  batch: z.number().int().positive().optional(),
  /** false: every op as its own kernel, no batch-norm folding or fused activations (default true). */
  fuse: z.boolean().optional(),
});
/** A parameter sweep (src/shared/sweep.ts): `progress` per point (with `point`), then a sweep result. */
const sweep = z.object({ id: requestId, type: z.literal('sweep'), sweep: sweepDefinitionSchema });
const cancel = z.object({ id: requestId, type: z.literal('cancel'), target: requestId });
const exportReport = z.object({ id: requestId, type: z.literal('export'), report: reportSchema, format: z.enum(EXPORT_FORMATS) });

/**
 * The largest ONNX file the workbench sends to the engine (protobuf itself stops at 2 GiB). Over
 * a JSON transport the bytes travel as base64, 4/3 as long: see MAX_ONNX_TEXT_BYTES.
 */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;
/** Base64 text over the `serve` WebSocket: below V8's longest string (~512 Mi characters) and the server's payload cap. */
export const MAX_ONNX_TEXT_BYTES = 300 * 1024 * 1024;
/**
 * An ONNX model file's bytes: a Uint8Array where the transport carries binary (Electron's
 * MessagePort, the engine Worker), else base64 text (the `serve` WebSocket).
 */
const onnxBytes = z.union([z.string().max(Math.ceil(MAX_ONNX_TEXT_BYTES / 3) * 4), z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes (a Uint8Array)').refine((b) => b.length <= MAX_ONNX_BYTES, 'over 2 GiB')]);
/** An ONNX file -> a convscope/v1 design (the file's weights are not kept: see docs/guide.md). */
const importOnnx = z.object({ id: requestId, type: z.literal('import_onnx'), name: z.string().min(1).max(255), data: onnxBytes, batch: z.number().int().positive().optional() });
/** The design as ONNX with its seeded weights, as `convscope export --onnx` writes it; base64 in the result. */
const exportOnnx = z.object({ id: requestId, type: z.literal('export_onnx'), spec: modelSpecSchema, dynamic_batch: z.boolean().optional() });

export const requestSchema = z.discriminatedUnion('type', [hello, catalog, backends, preset, suggest, inspect, profile, sweep, cancel, exportReport, importOnnx, exportOnnx]);
export type Request = z.infer<typeof requestSchema>;
export type RequestType = Request['type'];
export type RequestOf<T extends RequestType> = Extract<Request, { type: T }>;
/** What a caller fills in; the client adds `id` and `type`. */
export type RequestParams<T extends RequestType> = Omit<RequestOf<T>, 'id' | 'type'>;

// ---- results, one schema per request type ----

export const resultSchemas = {
  hello: z.object({ protocol: z.literal(PROTOCOL_VERSION), app_version: z.string(), pid: z.number().int() }),
  catalog: catalogSchema,
  backends: backendsResultSchema,
  preset: z.object({ spec: modelSpecSchema }),
  suggest: z.object({ params: z.record(z.string(), paramValueSchema), fits: z.boolean() }),
  inspect: analysisSchema,
  profile: analysisSchema,
  sweep: sweepResultSchema,
  cancel: z.object({ cancelled: z.boolean() }),
  export: z.object({ format: z.enum(EXPORT_FORMATS), extension: z.string(), mime: z.string(), text: z.string() }),
  import_onnx: z.object({ spec: modelSpecSchema, layers: count }),
  export_onnx: z.object({ extension: z.literal('.onnx'), mime: z.string(), bytes: count, base64: z.string() }),
} satisfies Record<RequestType, z.ZodType>;
export type ResultOf<T extends RequestType> = z.infer<(typeof resultSchemas)[T]>;

// ---- engine -> workbench ----

export const ERROR_KINDS = ['spec', 'cancelled', 'internal', 'protocol', 'engine_stopped'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export const errorInfoSchema = z.object({
  /** spec: the user's model or argument (names layer/param); engine_stopped: the process died. */
  kind: z.enum(ERROR_KINDS),
  message: z.string(),
  layer: z.string().optional(),
  param: z.string().optional(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

const resultMessage = z.object({ type: z.literal('result'), id: requestId, result: z.unknown() });
const progressMessage = z.object({
  type: z.literal('progress'),
  id: requestId,
  phase: progressPhaseSchema,
  done: count,
  total: count,
  /** A sweep's: the point in progress (0-based), of how many, at which value; phase and counts are that point's. */
  point: z.object({ index: count, count, value: z.number() }).optional(),
});
/** id -1: a message so malformed that it could not be attributed to a request. */
const errorMessage = z.object({ type: z.literal('error'), id: z.number().int().min(-1), error: errorInfoSchema });
export const ENGINE_STATES = ['starting', 'ready', 'restarting', 'failed'] as const;
export type EngineState = (typeof ENGINE_STATES)[number];
const engineMessage = z.object({
  type: z.literal('engine'),
  state: z.enum(ENGINE_STATES),
  message: z.string(),
  /** How many times the engine process has been restarted in this session. */
  restarts: count,
  pid: z.number().int().optional(),
});

/** A one-off event of the engine, outside any request: the WebAssembly kernels compiling on first use (engine/notices.ts). */
const noticeMessage = z.object({ type: z.literal('notice'), kind: z.enum(['compile']), phase: z.enum(['start', 'done']), text: z.string() });
export type NoticeMessage = z.infer<typeof noticeMessage>;

export const engineMessageSchema = z.discriminatedUnion('type', [resultMessage, progressMessage, errorMessage, engineMessage, noticeMessage]);
export type EngineMessage = z.infer<typeof engineMessageSchema>;
export type ProgressMessage = z.infer<typeof progressMessage>;
export type EngineStatusMessage = z.infer<typeof engineMessage>;

/** One line naming the first problem, for protocol errors. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.') || 'message';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${path}: ${issue.message}${more}`;
}
