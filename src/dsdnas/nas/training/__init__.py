"""Training: the device-resident `trainer`, and `finetune` (final retraining or transfer)."""
