"""features_ref.py - an independent numpy reference of docs/features.md
(log-gammatone features), written from that text, in float64, and of the
log-mel alternative (librosa.filters.mel's default filterbank: Slaney
mel scale, Slaney area normalisation).

    features(x, sr=44100, n_fft=1024, hop=512, bands=128, fmin=50.0,
             fmax=None, delta_width=9, filterbank="gammatone")
        -> array [T, 2*bands]
"""
import numpy as np

EAR_Q = 9.26449
MIN_BW = 24.7
LOG_FLOOR_ENERGY = 1e-10


def erb_centres(bands, fmin, fmax):
    """Slaney's ERB-spaced centre frequencies, sorted ascending."""
    c = EAR_Q * MIN_BW
    i = np.arange(1, bands + 1, dtype=np.float64)
    f = -c + np.exp(i * (np.log(fmin + c) - np.log(fmax + c)) / bands) * (fmax + c)
    return np.sort(f)


def gammatone_power_weights(sr, n_fft, bands, fmin, fmax):
    """G[i, k] = (1 + ((f_k - f_i) / b_i)^2)^-4, f_k = k sr / N."""
    f = erb_centres(bands, fmin, fmax)
    b = 1.019 * (f / EAR_Q + MIN_BW)
    fk = np.arange(n_fft // 2 + 1, dtype=np.float64) * sr / n_fft
    ratio = (fk[np.newaxis, :] - f[:, np.newaxis]) / b[:, np.newaxis]
    return np.power(1.0 + ratio * ratio, -4.0)


def slaney_hz_to_mel(f):
    """Linear (3 per 200 Hz) below 1 kHz, logarithmic (27 per ln 6.4) above."""
    f = np.asarray(f, dtype=np.float64)
    return np.where(f < 1000.0, f * 3.0 / 200.0,
                    15.0 + 27.0 * np.log(np.maximum(f, 1e-300) / 1000.0)
                    / np.log(6.4))


def slaney_mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    return np.where(m < 15.0, m * 200.0 / 3.0,
                    1000.0 * np.exp((m - 15.0) * np.log(6.4) / 27.0))


def mel_power_weights(sr, n_fft, bands, fmin, fmax):
    """Triangles between bands + 2 mel-spaced edges, each of area 1 in Hz
    (peak 2 / (upper edge - lower edge))."""
    edges = slaney_mel_to_hz(np.linspace(slaney_hz_to_mel(fmin),
                                         slaney_hz_to_mel(fmax), bands + 2))
    fk = np.arange(n_fft // 2 + 1, dtype=np.float64) * sr / n_fft
    w = np.zeros((bands, fk.size))
    for i in range(bands):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (fk - lo) / (mid - lo)
        down = (hi - fk) / (hi - mid)
        w[i] = np.clip(np.minimum(up, down), 0.0, None) * 2.0 / (hi - lo)
    return w


def power_spectra(x, n_fft, hop):
    """|DFT of each periodic-Hamming-windowed frame|^2, bins 0..N/2."""
    x = np.asarray(x, dtype=np.float64)
    n_frames = (len(x) - n_fft) // hop + 1
    if n_frames < 1:
        return np.zeros((0, n_fft // 2 + 1))
    n = np.arange(n_fft)
    window = 0.54 - 0.46 * np.cos(2.0 * np.pi * n / n_fft)
    starts = np.arange(n_frames) * hop
    frames = x[starts[:, np.newaxis] + n[np.newaxis, :]] * window
    spectrum = np.fft.rfft(frames, axis=1)
    return spectrum.real ** 2 + spectrum.imag ** 2


def regression_delta(logs, width):
    """D_t = sum_n n (L_{t+n} - L_{t-n}) / (2 sum n^2), indices clamped."""
    half = width // 2
    t_count = logs.shape[0]
    t = np.arange(t_count)
    num = np.zeros_like(logs)
    for n in range(1, half + 1):
        ahead = logs[np.minimum(t + n, t_count - 1)]
        behind = logs[np.maximum(t - n, 0)]
        num += n * (ahead - behind)
    return num / (2.0 * sum(n * n for n in range(1, half + 1)))


def features(x, sr=44100, n_fft=1024, hop=512, bands=128, fmin=50.0,
             fmax=None, delta_width=9, filterbank="gammatone"):
    if fmax is None:
        fmax = sr / 2.0
    power = power_spectra(x, n_fft, hop)
    make = {"gammatone": gammatone_power_weights,
            "mel": mel_power_weights}[filterbank]
    weights = make(sr, n_fft, bands, fmin, fmax)
    energy = power @ weights.T
    logs = np.log(np.maximum(energy, LOG_FLOOR_ENERGY))
    return np.concatenate([logs, regression_delta(logs, delta_width)], axis=1)
