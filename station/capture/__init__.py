"""The desk workflow (card → student → photo → review → saved), pure and testable without Qt."""
