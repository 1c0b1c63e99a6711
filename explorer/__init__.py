"""VAE Latent Explorer: a plain library to train, save and explore variational autoencoders."""

__version__ = "0.1.0"
