"""Reference models to put beside a search's front: the classic MNIST CNN and torchvision's
classifiers, adapted to the run's images (`zoo`), optionally from pretrained weights (`pretrained`)."""
