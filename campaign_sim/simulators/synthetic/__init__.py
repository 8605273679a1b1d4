"""The ground-truth synthetic world: shoppers whose true response is known."""
