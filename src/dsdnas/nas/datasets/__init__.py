"""Datasets: what a dataset is (`base`), where it comes from (`sources`, `idx`, `folder`),
how it is split (`splits`), and how it lives on the training device (`device_data`)."""
