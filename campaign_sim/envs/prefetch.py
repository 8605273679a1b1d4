"""A cache prefetch hint for compiled passes that read rows at random (restarts read pool rows).

A restart seats a random pool shopper, so its record is a cache miss, and the copy that follows
waits on it: 75% of the fused restart's time was that stall. Knowing the rows ahead, a pass can
ask for row ``r + ahead`` while it copies row ``r``, so several misses are in flight at once
(the restart took 0.45x the time). numba has no prefetch, so this emits LLVM's
``llvm.prefetch`` (``prefetcht0`` on x86-64, ``prfm`` on arm64, nothing where there is none);
a hint never changes results.
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_LINE = 64  # bytes per cache line on x86-64 and arm64


@intrinsic
def _prefetch(typingctx, array, index):  # pragma: no cover - compiled
    """Start loading element ``index`` (flat, C order) of ``array`` into every cache level."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        address = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        hint = ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32])
        llvm_prefetch = cgutils.get_or_insert_function(builder.module, hint, "llvm.prefetch.p0")
        builder.call(llvm_prefetch, [address, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(array, index), codegen


@numba.njit(cache=True, inline="always")
def prefetch_row(array, row):  # pragma: no cover - compiled
    """Prefetch every cache line of row ``row`` of a C-contiguous 2-D array."""
    width = array.shape[1]
    step = max(_LINE // array.itemsize, 1)
    start = row * width
    for j in range(0, width + step - 1, step):  # the last line too when a row straddles one
        _prefetch(array, start + min(j, width - 1))
