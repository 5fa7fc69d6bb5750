"""mock_gemini: a mock of the Gemini Developer API for load tests (see docs/mock-gemini.md).

from mock_gemini import MockConfig, start_mock_in_thread
with start_mock_in_thread(MockConfig()) as mock:
    print(mock.url)
"""

from mock_gemini.config import MockConfig, MockConfigError
from mock_gemini.embedded import MockHandle, serve_mock, start_mock_in_thread

__all__ = ["MockConfig", "MockConfigError", "MockHandle", "serve_mock", "start_mock_in_thread"]
