"""Authentication and the principal model shared by every transport."""
