"""What a model costs, from its architecture alone: parameters, the multiply-adds of one decode, and the working
memory of one image's decode and of one image in a training step. Computed on the meta device (shapes, no
data), so a model is judged before any of its memory is allocated."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explorer.config import ModelConfig

FLOAT = 4  # bytes of a float32
ADAM_COPIES = 4  # a trained weight is held with its gradient and Adam's two moments


@dataclass(frozen=True)
class ModelCost:
    parameters: int
    decode_macs: int  # multiply-adds of one image's decode
    decode_bytes: int  # working memory of one image's decode (no gradients)
    encode_bytes: int  # ... and of one image's encode
    step_bytes: int  # working memory of one image in a training step (activations kept for backward)

    @property
    def weight_bytes(self) -> int:
        return self.parameters * FLOAT

    def run_bytes(self, batch_size: int, draws: int = 1) -> int:
        """What a training run holds at once: weights with gradients and optimiser state, and one batch's work
        (each image's `draws` of z decoded: the whole step counted that many times, an upper bound)."""
        return self.weight_bytes * ADAM_COPIES + batch_size * max(1, draws) * self.step_bytes


class _Tally:
    """Forward hooks on every leaf module: the sum of their outputs (what a backward pass keeps), and the most any
    one layer needs at once (its input, output and a convolution's unfolded patches)."""

    def __init__(self, model: nn.Module):
        self.outputs, self.peak = 0, 0
        self.hooks = [m.register_forward_hook(self._seen) for m in model.modules() if not list(m.children())]

    def _seen(self, module: nn.Module, inputs, output) -> None:
        x = inputs[0]
        unfolded = 0
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            if isinstance(module, nn.Conv2d):
                unfolded = x.shape[1] * kernel * output.shape[2] * output.shape[3]
            else:
                unfolded = module.out_channels * kernel * x.shape[2] * x.shape[3]
        self.outputs += output.numel() * FLOAT
        self.peak = max(self.peak, (x.numel() + output.numel() + unfolded) * FLOAT)

    def take(self) -> tuple[int, int]:
        """(sum of outputs, peak) of the passes since the last take."""
        seen, self.outputs, self.peak = (self.outputs, self.peak), 0, 0
        return seen

    def close(self) -> None:
        for hook in self.hooks:
            hook.remove()


@functools.lru_cache(maxsize=256)
def model_cost(config: ModelConfig, image_shape: tuple[int, int, int], num_classes: int = 0) -> ModelCost:
    """The cost of the model these describe (a ValueError for a description no model can have)."""
    from explorer.model import VAE  # explorer.model imports the data module: keep this module light to import

    with torch.device("meta"):
        model = VAE(config, tuple(image_shape), num_classes)
        labels = torch.zeros(1, dtype=torch.long) if config.conditional else None
        z = torch.zeros(1, config.latent_dim)
        tally = _Tally(model)
        with FlopCounterMode(display=False) as flops:
            model.decode(z, labels)
        decode = sum(tally.take())
        model.encode(torch.zeros(1, *image_shape), labels)
        encode = sum(tally.take())
        model(torch.zeros(1, *image_shape), labels)
        outputs, peak = tally.take()
        step = 2 * outputs + peak  # the activations kept for backward, and their gradients
        tally.close()
    return ModelCost(parameters=sum(p.numel() for p in model.parameters()), decode_macs=flops.get_total_flops() // 2,
                     decode_bytes=decode, encode_bytes=encode, step_bytes=step)


def cost_of(model) -> ModelCost:
    """The cost of a built model (a VAE)."""
    return model_cost(model.config, tuple(model.image_shape), model.num_classes)
