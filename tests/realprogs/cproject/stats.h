long sum_squares(int n);
