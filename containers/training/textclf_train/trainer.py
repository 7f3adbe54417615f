"""One training process: build the vocabulary and the model, resume from the newest
checkpoint, train with DistributedDataParallel when the world has several processes,
validate, print the metric lines and checkpoint after every epoch, and write the model.
Process 0 alone validates, prints metrics, checkpoints and writes the model."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F  # noqa: N812 (PyTorch's own convention)
from torch.nn.parallel import DistributedDataParallel

from . import metrics
from .artifact import write_model
from .checkpoint import load_latest_checkpoint, save_checkpoint
from .data import Example, TrainingData
from .environment import Paths, WorldPlan
from .errors import TrainingError, TrainingStoppedError
from .features import feature_ids
from .hyperparameters import Hyperparameters
from .model import TextClassifier, encode_batch
from .vocabulary import build_vocabulary

EVALUATION_BATCH = 1024
# What a resumed run may change: the number of epochs is a budget, not part of the model.
RESUMABLE_CHANGES = frozenset({"epochs"})
RENDEZVOUS_TIMEOUT = timedelta(minutes=30)

log = logging.getLogger("textclf_train")


def train_process(
    data: TrainingData,
    hp: Hyperparameters,
    paths: Paths,
    plan: WorldPlan,
    local_rank: int,
    should_stop: Callable[[], bool],
) -> None:
    """Run one process of the job (the only one, or one rank of a distributed job)."""
    device = torch.device(f"cuda:{local_rank}") if plan.use_cuda else torch.device("cpu")
    if plan.use_cuda:
        torch.cuda.set_device(device)
    if plan.distributed:
        dist.init_process_group(
            plan.backend,
            init_method=f"tcp://{plan.master_addr}:{plan.master_port}",
            rank=plan.rank(local_rank),
            world_size=plan.world_size,
            timeout=RENDEZVOUS_TIMEOUT,
        )
    try:
        _Trainer(data, hp, paths, plan, plan.rank(local_rank), device, should_stop).run()
    finally:
        if plan.distributed and dist.is_initialized():
            dist.destroy_process_group()


class _Trainer:
    def __init__(
        self,
        data: TrainingData,
        hp: Hyperparameters,
        paths: Paths,
        plan: WorldPlan,
        rank: int,
        device: torch.device,
        should_stop: Callable[[], bool],
    ) -> None:
        self.data = data
        self.hp = hp
        self.paths = paths
        self.plan = plan
        self.rank = rank
        self.device = device
        self.should_stop = should_stop

    def run(self) -> None:
        hp, data = self.hp, self.data
        vocabulary = build_vocabulary((example.text for example in data.train), hp)
        if not vocabulary:
            raise TrainingError(
                "the training texts yield no features: they are empty, or min_count "
                f"({hp.min_count}) is above every feature's count"
            )
        self.train_ids, self.train_y = self._encode(data.train, vocabulary)
        self.validation_ids, self.validation_y = self._encode(data.validation, vocabulary)

        torch.manual_seed(hp.seed)
        self.model = TextClassifier(len(vocabulary), hp.embedding_dim, len(data.labels))
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=hp.learning_rate)
        fingerprint = _fingerprint(hp, data)
        last_epoch, history = self._resume(fingerprint)
        trained: torch.nn.Module = self.model
        if self.plan.distributed:
            trained = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.plan.use_cuda else None
            )
        if self.rank == 0 and not data.validation:
            log.warning("no validation data: only epoch and train:loss are reported")

        for epoch in range(last_epoch + 1, hp.epochs + 1):
            started = time.monotonic()
            train_loss = self._train_epoch(trained, epoch)
            if self.rank != 0:
                continue
            result = {"epoch": float(epoch), "train:loss": train_loss, **self._evaluate()}
            for name, value in result.items():
                metrics.emit(name, value)
            history.append(result)
            save_checkpoint(
                self.paths.checkpoint_dir,
                epoch,
                {
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "fingerprint": fingerprint,
                    "history": history,
                },
            )
            log.info(
                "epoch %d/%d done in %.2f s: %s",
                epoch,
                hp.epochs,
                time.monotonic() - started,
                ", ".join(f"{k}={v:.4g}" for k, v in result.items() if k != "epoch"),
            )
            last_epoch = epoch

        if self.rank == 0:
            self._write_model(vocabulary, last_epoch, history)
        if self.plan.distributed:
            dist.barrier()

    def _encode(
        self, examples: Sequence[Example], vocabulary: list[str]
    ) -> tuple[list[list[int]], torch.Tensor]:
        """Each example's feature ids, and the class indices on the training device."""
        hp = self.hp
        index = {feature: i for i, feature in enumerate(vocabulary)}
        label_index = {label: i for i, label in enumerate(self.data.labels)}
        ids = [
            feature_ids(example.text, index, hp.max_length, hp.ngram_size) for example in examples
        ]
        labels = torch.tensor(
            [label_index[example.label] for example in examples],
            dtype=torch.long,
            device=self.device,
        )
        return ids, labels

    def _resume(self, fingerprint: dict[str, Any]) -> tuple[int, list[dict[str, float]]]:
        """The newest checkpoint's epoch and metrics, its weights and optimizer state
        loaded; process 0 reads it and hands it (or why it cannot) to the others."""
        outcome: tuple[str, Any] = ("none", None)
        if self.rank == 0:
            try:
                found = load_latest_checkpoint(self.paths.checkpoint_dir)
                if found is not None:
                    path, state = found
                    _check_fingerprint(state.get("fingerprint"), fingerprint, path.name)
                    outcome = ("resume", state)
                    log.info(
                        "resuming from checkpoint %s (epoch %d of %d)",
                        path,
                        state["epoch"],
                        self.hp.epochs,
                    )
            except TrainingError as error:
                outcome = ("error", str(error))
        if self.plan.distributed:
            box: list[Any] = [outcome]
            dist.broadcast_object_list(box, src=0)
            outcome = box[0]
        kind, value = outcome
        if kind == "error":
            raise TrainingError(value)
        if kind == "none":
            return 0, []
        self.model.load_state_dict(value["model"])
        self.optimizer.load_state_dict(value["optimizer"])
        epoch = int(value["epoch"])
        if epoch > self.hp.epochs:
            log.warning("the checkpoint has %d epochs, more than epochs=%d", epoch, self.hp.epochs)
        return epoch, list(value.get("history", []))

    def _train_epoch(self, model: torch.nn.Module, epoch: int) -> float:
        """One pass over this process's share of the data, in an order that depends only
        on the seed and the epoch (so a resumed run repeats what an uninterrupted one
        would have done); every process gets as many batches as the others."""
        hp, plan = self.hp, self.plan
        model.train()
        count = len(self.train_ids)
        generator = torch.Generator().manual_seed(hp.seed + epoch)
        order = torch.randperm(count, generator=generator).tolist()
        per_process = math.ceil(count / plan.world_size)
        padded = [order[i % count] for i in range(per_process * plan.world_size)]
        share = padded[self.rank :: plan.world_size]
        loss_sum = torch.zeros((), device=self.device)
        for start in range(0, len(share), hp.batch_size):
            if self._stop_requested():
                done = epoch - 1
                resume = (
                    f"the checkpoint of epoch {done} resumes it"
                    if done
                    else "no epoch had finished, so a restart begins again"
                )
                raise TrainingStoppedError(
                    f"training stopped by SIGTERM during epoch {epoch} of {hp.epochs}; {resume}"
                )
            batch = share[start : start + hp.batch_size]
            ids, offsets = encode_batch(self.train_ids, batch, self.device)
            logits = model(ids, offsets)
            loss = F.cross_entropy(logits, self.train_y[batch])
            self.optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)
            self.optimizer.step()
            loss_sum += loss.detach() * len(batch)
        totals = torch.stack([loss_sum, torch.tensor(float(len(share)), device=self.device)])
        if plan.distributed:
            dist.all_reduce(totals)
        return float(totals[0] / totals[1])

    def _stop_requested(self) -> bool:
        stop = self.should_stop()
        if not self.plan.distributed:
            return stop
        # Every process must stop at the same batch, or the others would wait forever
        # for its gradients.
        flag = torch.tensor([1 if stop else 0], device=self.device)
        dist.all_reduce(flag)
        return bool(flag.item())

    @torch.no_grad()
    def _evaluate(self) -> dict[str, float]:
        if not self.validation_ids:
            return {}
        self.model.eval()
        chunks = [
            self.model(
                *encode_batch(
                    self.validation_ids,
                    range(start, min(start + EVALUATION_BATCH, len(self.validation_ids))),
                    self.device,
                )
            )
            for start in range(0, len(self.validation_ids), EVALUATION_BATCH)
        ]
        self.model.train()
        logits = torch.cat(chunks)
        predicted = logits.argmax(dim=1)
        return {
            "validation:loss": float(F.cross_entropy(logits, self.validation_y)),
            "validation:accuracy": float((predicted == self.validation_y).float().mean()),
            "validation:macro_f1": macro_f1(self.validation_y, predicted, len(self.data.labels)),
        }

    def _write_model(
        self, vocabulary: list[str], epochs: int, history: Sequence[dict[str, float]]
    ) -> None:
        write_model(
            self.paths.model_dir,
            self.model,
            vocabulary,
            self.data.labels,
            self.hp,
            {
                "hyperparameters": self.hp.as_dict(),
                "epochs_completed": epochs,
                "metrics": dict(history[-1]) if history else {},
                "examples": {
                    "train": len(self.data.train),
                    "validation": len(self.data.validation),
                    "validation_source": self.data.validation_source,
                    "skipped": self.data.skipped,
                },
                "world_size": self.plan.world_size,
                "device": self.device.type,
                "torch_version": torch.__version__,
            },
        )
        log.info("model written to %s", self.paths.model_dir)


def macro_f1(truth: torch.Tensor, predicted: torch.Tensor, classes: int) -> float:
    """The mean F1 over the classes that occur in the truth or the predictions."""
    true_positive = torch.bincount(truth[predicted == truth], minlength=classes)
    support = torch.bincount(truth, minlength=classes) + torch.bincount(
        predicted, minlength=classes
    )
    present = support > 0
    if not bool(present.any()):
        return float("nan")
    scores = 2 * true_positive[present].double() / support[present].double()
    return float(scores.mean())


def _fingerprint(hp: Hyperparameters, data: TrainingData) -> dict[str, Any]:
    """What a checkpoint must share with this run to be resumed by it."""
    digest = hashlib.sha256()
    for part, examples in (("train", data.train), ("validation", data.validation)):
        digest.update(part.encode())
        for example in examples:
            digest.update(json.dumps([example.text, example.label]).encode())
            digest.update(b"\n")
    settings = {k: v for k, v in hp.as_dict().items() if k not in RESUMABLE_CHANGES}
    return {"hyperparameters": settings, "labels": data.labels, "data": digest.hexdigest()}


def _check_fingerprint(found: Any, expected: dict[str, Any], name: str) -> None:
    if found == expected:
        return
    found = found if isinstance(found, dict) else {}
    differences: list[str] = []
    old_settings = found.get("hyperparameters") or {}
    for key, value in expected["hyperparameters"].items():
        if old_settings.get(key) != value:
            differences.append(f"{key} was {old_settings.get(key)!r}, now {value!r}")
    if found.get("labels") != expected["labels"]:
        differences.append("the classes differ")
    if found.get("data") != expected["data"]:
        differences.append("the training or validation data differ")
    raise TrainingError(
        f"checkpoint {name} belongs to another training run ({'; '.join(differences)}); "
        "give this job a new checkpoint location, or its former hyperparameters and data"
    )
