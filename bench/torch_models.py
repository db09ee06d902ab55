"""The networks of bench/train-step.ts in PyTorch, shared by its PyTorch peer (bench/torch_train_step.py)
and the interoperability test (test/models.test.ts), which loads our state dicts into them.

ResNet32 is LDAM's resnet32, the backbone of BCL: option-A shortcuts (stride-2 subsampling, channels
zero-padded), parameter names conv1, bn1, layerS.B.{conv1,bn1,conv2,bn2}, fc, as ours.
"""
import torch.nn as nn
import torch.nn.functional as F


def small_cnn(classes=10, widths=(16, 32, 64), in_ch=3, size=32):
    layers = []
    for w in widths:
        layers += [nn.Conv2d(in_ch, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
        in_ch, size = w, size // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(in_ch * size * size, classes))


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
    def __init__(self, classes=10, n=5, in_ch=3):
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
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.fc(F.avg_pool2d(x, x.size(3)).flatten(1))
