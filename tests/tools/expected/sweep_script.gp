# written by mmsim; run with: gnuplot THIS-FILE
set terminal svg size 960,600 dynamic
set termoption noenhanced
set output 'OUT/p.svg'
set title 'Fault rate against frames: belady.txt (12 requests)'
set xlabel 'frames'
set ylabel 'fault rate (misses / requests)'
set yrange [0:*]
set grid
set key below height 1
set xtics 1
set label 'fifo: 4 frames' at 4,0.8333333333 offset 1,1
$s0 << EOD
1 1
2 1
3 0.75
4 0.8333333333
5 0.4166666667
6 0.4166666667
EOD
$m0 << EOD
4 0.8333333333
EOD
$s1 << EOD
1 1
2 1
3 0.8333333333
4 0.6666666667
5 0.4166666667
6 0.4166666667
EOD
plot $s0 with linespoints lw 2 pt 7 ps 0.6 title 'fifo', \
     $s1 with linespoints lw 2 pt 7 ps 0.6 title 'lru', \
     $m0 with points pt 6 ps 2.5 lw 2 lc rgb 'red' title 'Belady''s anomaly'
