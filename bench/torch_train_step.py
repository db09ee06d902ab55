"""PyTorch CPU peer of bench/train-step.ts: images/s of one SGD training step (forward, backward, update)
for the same two networks, built the same way. Prints one JSON object: {"torch": version, "threads": n,
"results": {"small-cnn": images_per_s, "resnet32": images_per_s}}.

Usage: python3 bench/torch_train_step.py [--quick]
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
QUICK = "--quick" in sys.argv


def small_cnn(classes=10, widths=(16, 32, 64), in_ch=3, size=32):
    layers = []
    for w in widths:
        layers += [nn.Conv2d(in_ch, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
        in_ch, size = w, size // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(in_ch * size * size, classes))


class Block(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.down = stride != 1 or inp != planes
        self.planes = planes

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.planes // 4, self.planes // 4)) if self.down else x
        return F.relu(out + sc)


class ResNet32(nn.Module):
    def __init__(self, classes=10, n=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, inp = [], 16
        for s, planes in enumerate((16, 32, 64)):
            for b in range(n):
                blocks.append(Block(inp, planes, 2 if s > 0 and b == 0 else 1))
                inp = planes
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


def images_per_s(model, batch, min_s):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    step()  # warm-up
    reps, t0 = 0, time.perf_counter()
    while reps < 2 or time.perf_counter() - t0 < min_s:
        step()
        reps += 1
    return batch * reps / (time.perf_counter() - t0)


results = {
    "small-cnn": images_per_s(small_cnn(), 128, 1 if QUICK else 5),
    "resnet32": images_per_s(ResNet32(), 32, 1 if QUICK else 5),
}
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))
