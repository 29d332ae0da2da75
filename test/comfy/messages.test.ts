import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBinaryMessage, parseTextMessage } from '../../app/comfy/messages.js';

const frame = (type: string, data: unknown) => JSON.stringify({ type, data });

describe('parseTextMessage: every message type of the reference', () => {
  it.each([
    [frame('status', { status: { exec_info: { queue_remaining: 1 } }, sid: 'c1' }), { type: 'status', queueRemaining: 1, sid: 'c1' }],
    [frame('execution_start', { prompt_id: 'p', timestamp: 1 }), { type: 'execution_start', promptId: 'p' }],
    [frame('execution_cached', { prompt_id: 'p', nodes: ['1', 2], timestamp: 1 }), { type: 'execution_cached', promptId: 'p', nodes: ['1', '2'] }],
    [frame('executing', { prompt_id: 'p', node: '8', display_node: '8' }), { type: 'executing', promptId: 'p', node: '8' }],
    [frame('executing', { prompt_id: 'p', node: null }), { type: 'executing', promptId: 'p', node: null }],
    [frame('progress', { prompt_id: 'p', node: '8', value: 3, max: 20 }), { type: 'progress', promptId: 'p', node: '8', value: 3, max: 20 }],
    [
      frame('progress_state', { prompt_id: 'p', nodes: { '8': { state: 'running', value: 3, max: 20, node_id: '8' } } }),
      { type: 'progress_state', promptId: 'p', nodes: { '8': { state: 'running', value: 3, max: 20 } } },
    ],
    [
      frame('executed', { prompt_id: 'p', node: '2', display_node: '2', output: { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] } }),
      { type: 'executed', promptId: 'p', node: '2', images: [{ filename: 'a.png', subfolder: '', type: 'output' }] },
    ],
    [frame('execution_success', { prompt_id: 'p', timestamp: 1 }), { type: 'execution_success', promptId: 'p' }],
    [
      frame('execution_error', { prompt_id: 'p', node_id: '8', node_type: 'KSampler', exception_type: 'RuntimeError', exception_message: 'boom', traceback: [] }),
      { type: 'execution_error', promptId: 'p', node: '8', nodeType: 'KSampler', exceptionType: 'RuntimeError', exceptionMessage: 'boom' },
    ],
    [frame('execution_interrupted', { prompt_id: 'p', node_id: '8', node_type: 'KSampler', executed: [] }), { type: 'execution_interrupted', promptId: 'p', node: '8', nodeType: 'KSampler' }],
    [frame('feature_flags', { supports_preview_metadata: true }), { type: 'feature_flags', flags: { supports_preview_metadata: true } }],
  ])('%s', (text, expected) => {
    expect(parseTextMessage(text)).toEqual(expected);
  });

  it('keeps unknown and malformed frames as `unknown` instead of throwing', () => {
    expect(parseTextMessage('{not json')).toMatchObject({ type: 'unknown', rawType: 'invalid-json' });
    expect(parseTextMessage('[1,2]')).toMatchObject({ type: 'unknown', rawType: 'no-type' });
    expect(parseTextMessage(frame('progress', { value: 'x' }))).toMatchObject({ type: 'unknown', rawType: 'progress' });
    expect(parseTextMessage(frame('crystools.monitor', { cpu: 3 }))).toMatchObject({ type: 'unknown', rawType: 'crystools.monitor' });
  });

  it('never throws on arbitrary text or JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.record({ type: fc.constantFrom('status', 'executing', 'executed', 'progress', 'execution_error'), data: fc.anything() }).map((v) => JSON.stringify(v))), (text) => {
        const msg = parseTextMessage(text);
        expect(typeof msg.type).toBe('string');
      }),
    );
  });
});

describe('parseBinaryMessage', () => {
  const header = (event: number, image: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(event, 0);
    b.writeUInt32BE(image, 4);
    return b;
  };

  it('reads a preview frame: 4-byte BE event type 1, 4-byte image type, image bytes', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    expect(parseBinaryMessage(Buffer.concat([header(1, 2), png]))).toEqual({ type: 'preview', format: 'png', data: png });
    expect(parseBinaryMessage(Buffer.concat([header(1, 1), Buffer.from([0xff, 0xd8])]))).toMatchObject({ type: 'preview', format: 'jpeg' });
  });

  it('keeps other or short frames as unknown', () => {
    expect(parseBinaryMessage(Buffer.from([0, 0]))).toMatchObject({ type: 'unknown', rawType: 'binary' });
    expect(parseBinaryMessage(header(3, 0))).toMatchObject({ type: 'unknown', rawType: 'binary:3' });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(typeof parseBinaryMessage(Buffer.from(bytes)).type).toBe('string');
      }),
    );
  });
});
