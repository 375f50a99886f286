// Placeholder demo: replaced by the deploysim CLI.
#include <cstdio>
int main() {
  std::puts("deploysim engine built");
  return 0;
}
