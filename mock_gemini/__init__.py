"""mock_gemini."""
