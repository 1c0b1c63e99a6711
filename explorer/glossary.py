"""The words the app uses, each defined once in plain sentences: tooltips, captions and the Lessons page's glossary
all read them from here."""

from __future__ import annotations

# term -> definition, in the order a newcomer meets them. Plain text (shown as text, and inside Streamlit tooltips).
TERMS: dict[str, str] = {
    "latent space": "The space of codes z the encoder maps images to: here 2 to 16 numbers per image, against 784 "
                    "pixels (a 28x28 digit) or 1,024 (a 32x32 glyph). The decoder maps any point of it back to "
                    "an image.",
    "autoencoder": "An encoder that maps each image to one point (its code) and a decoder trained to rebuild the "
                   "image from that point. Its loss is the reconstruction alone.",
    "VAE": "A variational autoencoder: the encoder maps each image to a small Gaussian (a mean μ and a spread σ per "
           "dimension) instead of a point, the decoder is trained on samples from it, and a KL term keeps these "
           "Gaussians close to the prior, so samples from the prior decode to plausible images.",
    "posterior": "q(z|x), the Gaussian the encoder gives one image x: where in the latent space that image could be. "
                 "The app draws it as a bubble, its mean μ at the centre and ±1σ as its edge.",
    "μ": "The posterior's mean: the centre of an image's bubble, and the point the maps draw for it.",
    "σ": "The posterior's standard deviation, per latent dimension: the radius of an image's bubble. The prior's σ "
         "is 1.",
    "prior": "p(z) = N(0, I): a standard normal, mean 0 and σ 1 in every dimension. It is where new images are drawn "
             "from: sample z from it and decode.",
    "aggregate posterior": "q(z): every image's bubble averaged together, the region the encoded data fills. When it "
                           "matches the prior, a prior sample lands where the decoder was trained.",
    "reconstruction": "−log p(x|z): how badly the decoder rebuilds the image from a z drawn from its bubble, in nats "
                      "(lower is better).",
    "KL": "The Kullback-Leibler divergence KL(q(z|x) ‖ p(z)): how far an image's bubble is from the prior, in nats. "
          "It is 0 when μ = 0 and σ = 1; it grows as μ moves away from 0 (a spring pulling toward the origin) and as "
          "σ shrinks below 1 or grows above it.",
    "β": "The weight of the KL term in the loss: reconstruction + β·KL. β 1 is the VAE; β 0 drops the KL term "
         "(bubbles shrink and drift apart); a large β pulls every bubble onto the prior, so the codes say little.",
    "ELBO": "The evidence lower bound: −(reconstruction + KL), in nats per image. Training maximises it; it is never "
            "above log p(x).",
    "log p(x)": "How likely the model finds an image x, in nats: images like its training data score high, unusual "
                "ones low, though plain images (a blank one) can score higher than any real digit.",
    "IWAE bound": "An estimate of log p(x) from k samples of the bubble, weighted by how well each explains the "
                  "image (Burda et al. 2016). k = 1 is the ELBO; more samples give a tighter bound.",
    "nats": "The unit of these log-probabilities: natural logarithms. 1 nat is about 1.44 bits.",
    "active dimension": "A latent dimension that carries information: its KL from the prior, averaged over the test "
                        "images, is above 0.1 nats. The others sit at the prior and the decoder ignores them.",
    "MIG": "The mutual information gap: for each factor the data was made from (a sprite's x, its scale), how much "
           "more the most informative latent dimension tells about it than the second most, as a share of all there "
           "is to know about it; averaged over the factors. 1: each factor lives in its own dimension. 0: spread out.",
    "N(0, I)": "The standard normal in every latent dimension: mean 0, and I, the identity matrix, as covariance, so "
               "each dimension has σ 1 and is drawn independently of the others.",
    "ε": "A draw from N(0, I). A draw from an image's bubble is z = μ + σ·ε: the bubble's centre plus its spread "
         "times standard-normal noise, which lets training pass gradients through the random draw.",
    "99% ball": "The ball around the origin that holds 99% of the prior's samples. Its radius grows with the number "
                "of dimensions: 3.0 in 2-D, 5.7 in 16-D.",
    "epoch": "One pass of training over every training image.",
    "reader": "A small network trained on a data set's own labels and known factors (the digit, a glyph's character "
              "and boldness), never on a VAE's codes: it judges what a decoded image shows, so a claim about what a "
              "model draws is measured by something other than the model.",
    "percentile": "Where a score falls among the data's own scores: at the 2nd percentile, 2% of test images score "
                  "lower. The flag band keeps the scores between two percentiles; images outside it are flagged.",
    "latent units": "Distances in the latent space, in the units of z itself: the prior's σ is 1, so 2 latent "
                    "units is two prior standard deviations.",
    "decoded manifold": "A regular grid of points in the latent space, each decoded and tiled in place: the whole "
                        "surface of images the decoder draws across a region, between the data's codes too.",
    "PCA": "Principal component analysis: the directions along which the codes spread most (PC1 first, then PC2 "
           "at right angles to it). A map by PCA shows the codes from the angle that shows most of their spread.",
    "posterior collapse": "When the KL term wins: the encoder gives every image the prior itself as its bubble, z "
                          "carries nothing about the image, and the decoder draws one average image. KL warm-up and "
                          "free bits guard against it.",
    "CVAE": "A conditional VAE: encoder and decoder are also given the label as a one-hot vector (all zeros but a 1 "
            "at the label's place), so z holds what the label does not say, such as the style of a digit.",
    "likelihood p(x|z)": "How the decoder's image is scored against the real one. Bernoulli: each pixel is the "
                         "probability of ink (binary cross-entropy), for near black-and-white data; Gaussian: each "
                         "pixel a mean with a fixed spread (a scaled squared error).",
    "lerp": "Linear interpolation: points evenly spaced on the straight line between two codes.",
    "slerp": "Spherical interpolation: the direction turns along the arc between two codes while the length moves "
             "evenly from one's to the other's. In many dimensions prior samples lie on a shell around the origin; "
             "the arc stays on it, where a straight line cuts through the middle.",
}


def define(*terms: str) -> str:
    """The terms' definitions as one tooltip text ('**term**: definition', a paragraph each)."""
    return "\n\n".join(f"**{term}**: {TERMS[term]}" for term in terms)
