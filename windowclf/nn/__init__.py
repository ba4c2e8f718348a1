"""The math: activations and losses, the window network forward beside backward, row gradients,
character convolutions, the linear chain and SLL, optimizers, the per-example step, gradient checks."""
