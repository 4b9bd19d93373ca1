"""acrnn_ref.py - the PyTorch reference of the ACRNN network (docs/network.md).

Attribute names follow docs/model-file.md, so state_dict() names the tensors
exactly as an acrnn model file does; load_model() and save_model() read and
write such files.
"""
import json

import torch
from torch import nn

from safetensors_io import load_file, read_metadata, save_file

CHANNELS = (32, 32, 64, 64, 128, 128, 256, 256)
KERNELS = ((3, 5), (3, 5), (3, 1), (3, 1), (1, 5), (1, 5), (3, 3), (3, 3))
POOLS = {1: (4, 3), 3: (4, 1), 5: (1, 3), 7: (2, 2)}  # after these blocks
HIDDEN = 256


class RnnAttention(nn.Module):
    """The paper's l10: beta = softmax_t(score(tanh(mlp(h_t))))."""

    def __init__(self, dim, att):
        super().__init__()
        self.mlp = nn.Linear(dim, att)
        self.score = nn.Linear(att, 1, bias=False)

    def forward(self, h):  # h [B, T, D] -> v [B, D], beta [B, T]
        beta = torch.softmax(self.score(torch.tanh(self.mlp(h))).squeeze(-1), 1)
        return (beta.unsqueeze(-1) * h).sum(1), beta


class ACRNN(nn.Module):
    def __init__(self, n_classes, attention="rnn", bands=128, frames=128):
        super().__init__()
        self.attention_kind = attention
        self.cnn_layer = 0
        if attention.startswith("cnn:"):
            self.cnn_layer = int(attention[4:])
            if self.cnn_layer not in (2, 4, 6, 8):
                raise ValueError(f"attention {attention}: cnn:N needs N in 2,4,6,8")
        elif attention not in ("rnn", "none"):
            raise ValueError(f"attention {attention}: expected rnn, none or cnn:N")
        cins = (2,) + CHANNELS[:-1]
        self.conv = nn.ModuleList(
            nn.Conv2d(ci, co, k, padding="same")
            for ci, co, k in zip(cins, CHANNELS, KERNELS)
        )
        self.bn = nn.ModuleList(nn.BatchNorm2d(c, eps=1e-5) for c in CHANNELS)
        if self.cnn_layer:
            self.cnn_attention = nn.Conv2d(CHANNELS[self.cnn_layer - 1], 1, 3, padding=1)
        h = bands
        for ph, _ in POOLS.values():
            h //= ph
        self.gru = nn.GRU(CHANNELS[-1] * h, HIDDEN, num_layers=2, bidirectional=True,
                          batch_first=True, dropout=0.5)
        self.dropout = nn.Dropout(0.5)
        if attention == "rnn":
            self.attention = RnnAttention(2 * HIDDEN, 256)
        self.classifier = nn.Linear(2 * HIDDEN, n_classes)
        self.attention_weights = None  # of the last forward: [B, T] or [B, W]

    def features(self, x, record=None):
        """The conv blocks: [B, 2, bands, frames] -> [B, 256, bands/32, T].
        record (a list) receives ("relu", input of each ReLU) and ("pool",
        input of each max-pool, kernel): where the gradient has kinks."""
        self.attention_weights = None
        for i in range(8):
            x = self.bn[i](self.conv[i](x))
            if record is not None:
                record.append(("relu", x))
            x = torch.relu(x)
            if i == self.cnn_layer - 1:
                a = self.cnn_attention(x).mean(2, keepdim=True)  # [B, 1, 1, W]
                a = torch.softmax(a, 3)
                self.attention_weights = a.reshape(a.shape[0], -1)
                x = x * a
            if i in POOLS:
                if record is not None:
                    record.append(("pool", x, POOLS[i]))
                x = nn.functional.max_pool2d(x, POOLS[i])
        return x

    def forward(self, x):  # x [B, 2, bands, frames] -> logits [B, n_classes]
        x = self.features(x)
        seq = x.permute(0, 3, 1, 2).reshape(x.shape[0], x.shape[3], -1)
        h = self.dropout(self.gru(seq)[0])
        if self.attention_kind == "rnn":
            v, self.attention_weights = self.attention(h)
        else:
            v = h.mean(1)
        return self.classifier(v)


def load_model(path):
    """(model in eval mode, the `acrnn` metadata dict) of an acrnn model file.
    A missing bn.N.num_batches_tracked (PyTorch bookkeeping that a C-written
    file may lack) is filled with 0 by BatchNorm's own loader, so strict
    loading works."""
    meta = json.loads(read_metadata(path)["acrnn"])
    model = ACRNN(len(meta["labels"]), meta["attention"], meta["bands"],
                  meta["segment_frames"])
    model.load_state_dict(load_file(path), strict=True)
    return model.eval(), meta


def save_model(path, model, meta):
    """Writes model's state_dict (F32, plus PyTorch's I64 num_batches_tracked)
    and meta as the `acrnn` metadata entry."""
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, path, metadata={"acrnn": json.dumps(meta)})
