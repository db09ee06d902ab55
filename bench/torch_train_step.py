"""PyTorch CPU peer of bench/train-step.ts: images/s of one SGD training step (forward, backward, update)
for the same two networks (bench/torch_models.py). Prints one JSON object: {"torch": version, "threads": n,
"results": {"small-cnn": images_per_s, "resnet32": images_per_s}}.

Usage: python3 bench/torch_train_step.py [--quick]
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from torch_models import ResNet32, small_cnn

torch.set_num_threads(2)
torch.manual_seed(0)
QUICK = "--quick" in sys.argv


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
