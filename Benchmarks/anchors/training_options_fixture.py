"""Anchor: PyTorch's and scikit-learn's numbers for the training options (class weights, gradient
clipping, learning-rate schedules, ROC AUC and log loss), written to Tests/MLPTrainerTests/Fixtures/training_options.json.
Reuses the seed network without BatchNorm of seed_network_nobn_adam.json (its x, y and initial weights).
Usage: python training_options_fixture.py   (in a venv with torch and scikit-learn, outside the repository)"""
import json, pathlib, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.utils.class_weight import compute_class_weight

fixtures = pathlib.Path(__file__).resolve().parents[2] / "Tests/MLPTrainerTests/Fixtures"
seed = json.loads((fixtures / "seed_network_nobn_adam.json").read_text())
tensor = lambda t: torch.tensor(t["data"], dtype=torch.float32).reshape(t["shape"])
x, y = tensor(seed["x"]), torch.tensor(seed["y"])
sizes = seed["sizes"]

class Act(nn.Module):
    def __init__(s): super().__init__(); s.alpha = nn.Parameter(torch.tensor(0.0)); s.beta = nn.Parameter(torch.tensor(1.0))
    def forward(s, x): return s.alpha + s.beta * x

class Net(nn.Module):
    def __init__(s):
        super().__init__()
        for i, (a, b) in enumerate(zip(sizes, sizes[1:]), 1):
            setattr(s, f"fc{i}", nn.Linear(a, b))
            if i < len(sizes) - 1: setattr(s, f"a{i}", Act())
        s.n = len(sizes) - 1
    def forward(s, x):
        for i in range(1, s.n): x = getattr(s, f"a{i}")(getattr(s, f"fc{i}")(x))
        return getattr(s, f"fc{s.n}")(x)

def network():
    net = Net(); net.load_state_dict({k: tensor(v) for k, v in seed["init"].items()}, strict=True); return net

def listed(t): return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}

def gradients(weight=None, clip=None):
    net = network()
    loss = nn.CrossEntropyLoss(weight=weight)(net(x), y)
    loss.backward()
    out = {"loss": loss.item()}
    if clip is not None: out["total_norm"] = torch.nn.utils.clip_grad_norm_(net.parameters(), clip).item()
    out["grads"] = {k: listed(p.grad) for k, p in net.named_parameters()}
    return out

classes = sorted(set(seed["y"]))
balanced = compute_class_weight("balanced", classes=np.array(classes), y=y.numpy())
# An imbalanced label column: sklearn's balanced weights for 3 classes of 2, 5 and 13 rows.
labels3 = [0] * 2 + [1] * 5 + [2] * 13
fixture = {
    "description": "class weights: CrossEntropyLoss(weight=w) (sum w_y nll / sum w_y) and its gradients on the seed "
                   "network without BatchNorm (x, y, init of seed_network_nobn_adam.json); clipping: "
                   "clip_grad_norm_(max_norm) of the unweighted loss's gradients; schedules: the lr of each epoch "
                   "(1-based) for base lr 0.01; sklearn's compute_class_weight('balanced')",
    "weighted": {"weight": [0.3, 1.7], **gradients(torch.tensor([0.3, 1.7]))},
    "balanced_weights": {"y": seed["y"], "weights": balanced.tolist(), **gradients(torch.tensor(balanced, dtype=torch.float32))},
    "balanced_weights_3": {"y": labels3, "weights": compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=np.array(labels3)).tolist()},
    "clipped": {"max_norm": 0.05, **gradients(clip=0.05)},
}

def lrs(make, epochs, metrics=None, warmup=0, base=0.01):
    """The lr each epoch trains with: after `epoch - 1` scheduler steps (warm-up: LinearLR from
    base/(warmup+1) over `warmup` epochs, then the schedule from base, as SequentialLR chains them)."""
    p = nn.Parameter(torch.zeros(1)); opt = torch.optim.Adam([p], lr=base)
    scheds = []
    if warmup: scheds.append(torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / (warmup + 1), end_factor=1, total_iters=warmup))
    out = []
    main = None
    for epoch in range(1, epochs + 1):
        if warmup and epoch == warmup + 1:
            for g in opt.param_groups: g["lr"] = base
        if epoch == warmup + 1: main = make(opt)
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if epoch <= warmup: scheds[0].step()
        elif metrics is not None: main.step(metrics[epoch - 1])
        else: main.step()
    return out

S = torch.optim.lr_scheduler
epochs = 20
plateau_metrics = [1.0, 0.9, 0.85, 0.86, 0.87, 0.849, 0.86, 0.86, 0.86, 0.84, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7]
fixture["schedules"] = {
    "epochs": epochs, "lr": 0.01, "plateau_metrics": plateau_metrics,
    "step:3,0.5": lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5), epochs),
    "cosine": lrs(lambda o: S.CosineAnnealingLR(o, T_max=epochs), epochs),
    "onecycle": lrs(lambda o: S.OneCycleLR(o, max_lr=0.01, total_steps=epochs, cycle_momentum=False), epochs),
    "plateau:2,0.5": lrs(lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5), epochs, plateau_metrics),
    "warmup 3, cosine": lrs(lambda o: S.CosineAnnealingLR(o, T_max=epochs - 3), epochs, warmup=3),
    "warmup 2, step:4,0.1": lrs(lambda o: S.StepLR(o, step_size=4, gamma=0.1), epochs, warmup=2),
    "warmup 4, constant": lrs(lambda o: S.ConstantLR(o, factor=1, total_iters=0), epochs, warmup=4),
    "warmup 2, plateau:1,0.1": lrs(lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.1), epochs, plateau_metrics, warmup=2),
}
# ROC AUC with tied scores, and the log loss, as scikit-learn computes them.
rng = np.random.default_rng(3)
p1 = np.round(rng.uniform(0.05, 0.95, 60), 1)
truth = (rng.random(60) < p1).astype(int)
fixture["probabilities"] = {"y": truth.tolist(), "p1": p1.tolist(), "roc_auc": roc_auc_score(truth, p1),
                            "log_loss": log_loss(truth, np.stack([1 - p1, p1], 1))}
(fixtures / "training_options.json").write_text(json.dumps(fixture, indent=1) + "\n")
print("wrote", fixtures / "training_options.json")
