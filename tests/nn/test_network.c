/* test_network: being written in this session. */
int main(void) { return 77; }
