import ctypes, random, struct, math, os, sys
lib = ctypes.CDLL('/tmp/ggmlcheck/package/bins/linux-x64/libggml-base.so')
types = {  # name: (block elems, block bytes, fp16 offsets)
 'Q4_0': (32, 18, [0]), 'Q4_1': (32, 20, [0, 2]), 'Q5_0': (32, 22, [0]), 'Q5_1': (32, 24, [0, 2]),
 'Q8_0': (32, 34, [0]), 'Q2_K': (256, 84, [80, 82]), 'Q3_K': (256, 110, [108]), 'Q4_K': (256, 144, [0, 2]),
 'Q5_K': (256, 176, [0, 2]), 'Q6_K': (256, 210, [208]),
}
def half_bits(v):
    return struct.unpack('<H', struct.pack('<e', v))[0]
rng = random.Random(20251125)
outdir = sys.argv[1]
for name, (be, bb, halves) in types.items():
    deq = getattr(lib, 'dequantize_row_' + name.lower().replace('_k', '_K')); deq.restype = None
    deq.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    qz = getattr(lib, 'quantize_row_' + name.lower().replace('_k', '_K') + '_ref'); qz.restype = None
    qz.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    nrand, nreal = 6, 6
    blocks = bytearray()
    for b in range(nrand):
        blk = bytearray(rng.getrandbits(8) for _ in range(bb))
        for h in halves:
            v = (rng.random() * 2 - 1) * 2.0 ** rng.randint(-20, 7)
            blk[h:h+2] = struct.pack('<H', half_bits(v))
        blocks += blk
    # Blocks made by ggml's own reference quantiser from Gaussian data of varied scale and offset.
    n = nreal * be
    xs = [rng.gauss(0.01 * (i // be), 0.02 * (1 + i // be)) for i in range(n)]
    xin = (ctypes.c_float * n)(*xs)
    qbuf = (ctypes.c_uint8 * (nreal * bb))()
    qz(xin, qbuf, n)
    blocks += bytes(qbuf)
    total = (nrand + nreal) * be
    src = (ctypes.c_uint8 * len(blocks)).from_buffer_copy(bytes(blocks))
    y = (ctypes.c_float * total)()
    deq(src, y, total)
    with open(os.path.join(outdir, name + '.blocks'), 'wb') as f: f.write(bytes(blocks))
    with open(os.path.join(outdir, name + '.f32'), 'wb') as f: f.write(bytes(y))
    print(name, len(blocks), total)
