"""World models: the ground-truth synthetic world and response models fitted from logs."""
