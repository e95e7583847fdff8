"""Fixture: PyTorch's regression numbers for Tests/MLPTrainerTests/Fixtures/regression_{mse,huber}.json.
A 4-8-9-5-4-1 network (Linear -> LayerNorm -> the seed's affine activation alpha + beta * x, the
output Linear to one unit), train mode, on 32 rows of standard-normal features and a standardised
target; loss MSELoss() or HuberLoss(delta=1), mean over rows. Records the initial tensors, the
outputs, the loss, every gradient, the losses of 3 Adam(lr=0.01) steps, the tensors after them and
the eval-mode outputs. Usage: python regression_fixture.py OUT_DIR (needs torch)."""
import json, sys
import torch, torch.nn as nn

torch.manual_seed(7)
SIZES = (4, 8, 9, 5, 4, 1)
ROWS = 32


class Act(nn.Module):
    def __init__(s):
        super().__init__()
        s.alpha = nn.Parameter(torch.tensor(0.1))
        s.beta = nn.Parameter(torch.tensor(0.9))

    def forward(s, x):
        return s.alpha + s.beta * x


class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.n = len(SIZES) - 1
        for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:]), 1):
            setattr(s, f"fc{i}", nn.Linear(a, b))
            if i < s.n:
                setattr(s, f"ln{i}", nn.LayerNorm(b))
                setattr(s, f"a{i}", Act())

    def forward(s, x):
        for i in range(1, s.n):
            x = getattr(s, f"a{i}")(getattr(s, f"ln{i}")(getattr(s, f"fc{i}")(x)))
        return getattr(s, f"fc{s.n}")(x).squeeze(1)


def tensor(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


def fixture(loss_name, loss_fn, x, y, init):
    net = Net()
    net.load_state_dict(init)
    out = net(x)
    loss = loss_fn(out, y)
    loss.backward()
    grads = {k: tensor(p.grad) for k, p in net.named_parameters()}
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    optimizer.zero_grad()
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        step_loss = loss_fn(net(x), y)
        step_loss.backward()
        optimizer.step()
        losses.append(step_loss.item())
    net.eval()
    with torch.no_grad():
        eval_out = net(x)
    d = (out - y).abs()
    return {
        "description": f"4-8-9-5-4-1, LayerNorm before the affine activation, train mode, loss {loss_name} (mean) on a "
                       f"standardised target; Adam(lr=0.01) for 3 steps; rows with |output - target| >= 1: {int((d >= 1).sum())} of {ROWS}",
        "sizes": list(SIZES), "norm": "layer", "norm_position": "before_activation", "loss": loss_name,
        "x": tensor(x), "targets": tensor(y), "init": {k: tensor(v) for k, v in init.items()},
        "outputs": tensor(out), "loss_value": loss.item(), "grads": grads, "losses_per_step": losses,
        "after_steps": {k: tensor(v) for k, v in net.state_dict().items()}, "eval_outputs_after_steps": tensor(eval_out),
    }


x = torch.randn(ROWS, SIZES[0])
raw = 3 * x[:, 0] ** 2 - x[:, 1] * x[:, 2] + 0.5 * torch.randn(ROWS)
y = (raw - raw.mean()) / raw.std(unbiased=False)
init = {k: v.clone() for k, v in Net().state_dict().items()}
for name, fn in [("mse", nn.MSELoss()), ("huber", nn.HuberLoss(delta=1.0))]:
    with open(f"{sys.argv[1]}/regression_{name}.json", "w") as f:
        json.dump(fixture(name, fn, x, y, init), f)
