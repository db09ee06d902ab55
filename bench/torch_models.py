"""Our networks in PyTorch: the models of src/nn/ (SmallCNN, the CIFAR ResNets, the cosine classifier,
the projection heads), shared by the benchmark peer (bench/torch_train_step.py), the interoperability
test (test/models.test.ts, which loads our state dicts into them) and the training peer
(bench/peer/torch_cell.py).

Parameter names follow ours, so that state dicts map one to one:
- SmallCNN: features.{0,4,8,...} conv, features.{1,5,...} batch norm, fc (our SmallCNN's children
  `features` and `fc`);
- ResNet32 (LDAM's resnet32, the backbone of BCL): option-A shortcuts (stride-2 subsampling, channels
  zero-padded), conv1, bn1, layerS.B.{conv1,bn1,conv2,bn2}, fc;
- ProjectionHead: 0..3 (Linear-BN-ReLU-Linear) or 0..2 (Linear-ReLU-Linear), as our nn.Sequential-like head.

`init_like_ours(model)` gives the initialisation of our models (src/nn/layers.ts, src/nn/linear.ts):
convolutions Kaiming-normal N(0, 2 / fan_in) with nn.Conv2d's uniform bias, linear layers as nn.Linear,
batch norm weight 1 and bias 0, the cosine classifier uniform in [-1, 1].
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class CosineClassifier(nn.Module):
    """BCL's NormedLinear: logits = s * normalize(x) . normalize(W, columns), weight [in, K] (the transpose
    of nn.Linear's), s = 30, weight uniform in [-1, 1]."""

    def __init__(self, in_features, classes, s=30.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, classes).uniform_(-1, 1))
        self.s = s

    def forward(self, x):
        return self.s * F.normalize(x, dim=1) @ F.normalize(self.weight, dim=0)

    def class_rows(self):
        """The raw weight as one row per class, [K, in] (what BCL's head_fc receives)."""
        return self.weight.t()


def make_classifier(dim, classes, kind="linear"):
    return CosineClassifier(dim, classes) if kind == "cosine" else nn.Linear(dim, classes)


def class_weight_rows(fc):
    """The classifier's raw weight, one row per class [K, in]."""
    return fc.class_rows() if isinstance(fc, CosineClassifier) else fc.weight


class SmallCNN(nn.Module):
    """Our SmallCNN (src/nn/resnet.ts): len(widths) x [conv3x3 (padding 1) - BN - ReLU - maxpool 2], flatten,
    then the classifier `fc` on the flattened maps (featureDim = widths[-1] * s * s, s halved, floored, per stage)."""

    def __init__(self, classes=10, widths=(16, 32, 64), in_ch=3, size=32, classifier="linear"):
        super().__init__()
        layers = []
        for w in widths:
            layers += [nn.Conv2d(in_ch, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            in_ch, size = w, size // 2
        if size < 1:
            raise ValueError("SmallCNN: the input is too small for %d pooling stages" % len(widths))
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.feature_dim = in_ch * size * size
        self.fc = make_classifier(self.feature_dim, classes, classifier)

    def forward(self, x):
        return self.fc(self.features(x))


def small_cnn(classes=10, widths=(16, 32, 64), in_ch=3, size=32):
    """The benchmark's small CNN (bench/train-step.ts): SmallCNN with its default widths."""
    return SmallCNN(classes, widths, in_ch, size)


class BasicBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or inp != planes else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        sc = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + sc)


class ResNet32(nn.Module):
    """ResNet-(6n+2) (n = 5: ResNet-32) for 32x32 inputs; `features` is the globally pooled 64-d vector."""

    def __init__(self, classes=10, n=5, in_ch=3, classifier="linear"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        inp = 16
        for s, planes in enumerate((16, 32, 64)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(inp, planes, 2 if s > 0 and b == 0 else 1))
                inp = planes
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*blocks))
        self.feature_dim = 64
        self.fc = make_classifier(64, classes, classifier)

    def features(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return F.avg_pool2d(x, x.size(3)).flatten(1)

    def forward(self, x):
        return self.fc(self.features(x))


class ProjectionHead(nn.Sequential):
    """Our ProjectionHead (src/nn/heads.ts): Linear(in, hidden) [-BN] - ReLU - Linear(hidden, out), hidden =
    in by default; forward returns unit rows (every loss it feeds compares directions)."""

    def __init__(self, in_features, out_features, hidden=None, batch_norm=True):
        hidden = hidden or in_features
        layers = [nn.Linear(in_features, hidden)] + ([nn.BatchNorm1d(hidden)] if batch_norm else []) + [nn.ReLU(), nn.Linear(hidden, out_features)]
        super().__init__(*layers)
        self.out_features = out_features

    def forward(self, x):
        return F.normalize(super().forward(x), dim=1)


def init_like_ours(model):
    """Re-initialises `model` as our modules initialise themselves (see the module docstring)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                bound = 1 / (m.in_channels * m.kernel_size[0] * m.kernel_size[1]) ** 0.5
                nn.init.uniform_(m.bias, -bound, bound)
    return model
