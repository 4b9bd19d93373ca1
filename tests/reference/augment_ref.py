"""augment_ref.py - the paper's time stretch and pitch shift for the PyTorch
training reference (train_ref.py), made as acrnn-train makes them: the same
draws from the same generator, and one offline pass of the Rubber Band
library (called through ctypes, the same C API and calls as
libacrnn/train/time_pitch.c), so that a reference run trains on the same
augmented audio.

    draw(rng, stretch_min, stretch_max, pitch_range) -> (factor, semitones)
    time_pitch(x, sample_rate, factor, semitones) -> float32 array of
        round(len(x) * factor) samples

Needs librubberband (Debian: librubberband2); time_pitch raises
AugmentError saying so when it is missing."""
import ctypes
import ctypes.util
import math

import numpy as np

# rubberband-c.h
_OPTIONS = 0x00000000 | 0x00010000 | 0x00000000  # offline, never thread, R2
_BLOCK = 4096


class AugmentError(Exception):
    """Augmentation cannot run here: a message the user can act on."""


_lib = None


def _library():
    global _lib
    if _lib is not None:
        return _lib
    name = ctypes.util.find_library("rubberband") or "librubberband.so.2"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise AugmentError("time stretch and pitch shift need the Rubber Band "
                           "library (Debian: apt-get install librubberband2)") from None
    lib.rubberband_new.restype = ctypes.c_void_p
    lib.rubberband_new.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_int,
                                   ctypes.c_double, ctypes.c_double]
    lib.rubberband_delete.argtypes = [ctypes.c_void_p]
    lib.rubberband_set_expected_input_duration.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    fptrs = ctypes.POINTER(ctypes.POINTER(ctypes.c_float))
    for f in (lib.rubberband_study, lib.rubberband_process):
        f.argtypes = [ctypes.c_void_p, fptrs, ctypes.c_uint, ctypes.c_int]
    lib.rubberband_available.restype = ctypes.c_int
    lib.rubberband_available.argtypes = [ctypes.c_void_p]
    lib.rubberband_retrieve.restype = ctypes.c_uint
    lib.rubberband_retrieve.argtypes = [ctypes.c_void_p, fptrs, ctypes.c_uint]
    _lib = lib
    return lib


def draw(rng, stretch_min=0.8, stretch_max=1.3, pitch_range=3.5):
    """One copy's factors, as tr_augment_draw: the stretch factor, then the
    semitones, each from one float draw of rng (train_ref.Rng)."""
    factor = stretch_min + (stretch_max - stretch_min) * rng.uniform()
    semitones = pitch_range * (2.0 * rng.uniform() - 1.0)
    return factor, semitones


def time_pitch(x, sample_rate, factor, semitones):
    """x stretched by factor and shifted by semitones in one Rubber Band
    pass; round(len(x) * factor) samples (cut, or filled with zeros)."""
    lib = _library()
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = len(x)
    want = max(1, int(math.floor(n * factor + 0.5)))  # llround, n * factor > 0
    rb = lib.rubberband_new(sample_rate, 1, _OPTIONS, factor, 2.0 ** (semitones / 12.0))
    if not rb:
        raise AugmentError("Rubber Band could not make a stretcher")
    out = []
    got = 0
    tmp = np.empty(_BLOCK, np.float32)
    tmp_ptr = (ctypes.POINTER(ctypes.c_float) * 1)(
        tmp.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))

    def retrieve():
        nonlocal got
        while True:
            avail = lib.rubberband_available(rb)
            if avail <= 0:
                return
            r = lib.rubberband_retrieve(rb, tmp_ptr, min(avail, _BLOCK))
            out.append(tmp[:r].copy())
            got += r

    try:
        lib.rubberband_set_expected_input_duration(rb, n)
        for run in (lib.rubberband_study, lib.rubberband_process):
            for pos in range(0, n, _BLOCK):
                chunk = x[pos:pos + _BLOCK]
                ptr = (ctypes.POINTER(ctypes.c_float) * 1)(
                    chunk.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
                run(rb, ptr, len(chunk), int(pos + len(chunk) >= n))
                if run is lib.rubberband_process:
                    retrieve()
        retrieve()
    finally:
        lib.rubberband_delete(rb)
    y = np.concatenate(out) if out else np.zeros(0, np.float32)
    if len(y) < want:
        y = np.concatenate([y, np.zeros(want - len(y), np.float32)])
    return y[:want]
