"""How task images are made: the debootstrapped base, bundled repos, registry pulls, synthesized packages."""
