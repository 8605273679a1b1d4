"""A shopper response model fitted from a campaign log (torch to fit, numpy to run)."""
