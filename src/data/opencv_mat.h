// cv::Mat for the headers that name it. Built without OpenCV (-DLENET_OPENCV=OFF, which defines
// LENET_NO_OPENCV) it is only declared: what takes or returns one is then left out of the build
// or reports that lenet was built without OpenCV (src/no_opencv/).
#pragma once
#ifdef LENET_NO_OPENCV
namespace cv {
class Mat;
}
#else
#include <opencv2/core.hpp>
#endif
